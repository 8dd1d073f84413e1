using PatchCore.Core.Native;

namespace PatchCore.Core.Devices;

/// <summary>
/// Lowers the calling thread's CPU priority for background work (a bank update beside live scoring). On Linux the
/// nice value is per thread: setpriority(2) on the thread's id; threads it starts afterwards inherit it. libtorch's
/// intra-op worker threads are not among them: they are a pool shared with scoring, so the part of the work libtorch
/// spreads over them runs at normal priority (measured: during a daemon's feedback update one thread was at nice 10,
/// the other 20 at 0). .NET's <see cref="ThreadPriority"/> is also set, which is what other platforms honour (on Linux
/// .NET does not change the nice value for it).
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
