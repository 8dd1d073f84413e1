using PatchCore.Core.Native;

namespace PatchCore.Core.Devices;

/// <summary>
/// Lowers the calling thread's CPU priority for background work (a bank update beside live scoring). On Linux the
/// nice value is per thread: setpriority(2) on the thread's id, and the threads it then starts (the OpenMP team of
/// libtorch's operations called from it) inherit it. .NET's <see cref="ThreadPriority"/> is also set, which is what
/// other platforms honour (on Linux .NET does not change the nice value for it).
/// </summary>
public static class BackgroundPriority
{
    /// <summary>The nice value given on Linux (0 normal, 19 lowest).</summary>
    public const int Nice = 10;

    /// <summary>Returns true when the operating system's priority was lowered.</summary>
    public static bool LowerCurrentThread()
    {
        try { Thread.CurrentThread.Priority = ThreadPriority.BelowNormal; }
        catch (ThreadStateException) { }
        return OperatingSystem.IsLinux() && LibC.LowerThreadPriority(Nice);
    }
}
