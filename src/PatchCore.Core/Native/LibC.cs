using System.Runtime.InteropServices;

namespace PatchCore.Core.Native;

/// <summary>The few C library calls .NET does not offer.</summary>
internal static partial class LibC
{
    private const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY (Linux)

    /// <summary>
    /// setenv(3): changes the process environment that native code reads with getenv (on Unix,
    /// Environment.SetEnvironmentVariable changes only .NET's own copy). Returns 0 on success.
    /// </summary>
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int prio);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    /// <summary>setpriority(PRIO_PROCESS, gettid(), nice): on Linux a thread's own nice value. False where it fails.</summary>
    internal static bool LowerThreadPriority(int nice)
    {
        try
        {
            return SetPriority(0, GetTid(), nice) == 0;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>mallopt(3): sets one of glibc's malloc parameters; 1 on success (<see cref="NativeHeap"/>).</summary>
    [LibraryImport("libc", EntryPoint = "mallopt")]
    internal static partial int MallOpt(int parameter, int value);

    /// <summary>malloc_trim(3): returns free heap memory to the system; 1 when some was (<see cref="NativeHeap"/>).</summary>
    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    internal static partial int MallocTrim(nuint pad);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    /// <summary>
    /// fsync(2) on a folder, so that a rename inside it survives a power cut (.NET cannot open a folder to flush it).
    /// Best effort: false where the platform or file system does not allow it; the rename itself is atomic either way.
    /// </summary>
    internal static bool FsyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux()) return false;
        int fd = Open(path, ReadOnlyDirectory);
        if (fd < 0) return false;
        try { return Fsync(fd) == 0; }
        finally { Close(fd); }
    }
}
