using System.Runtime.InteropServices;

namespace PatchCore.Inspection.Processing;

/// <summary>
/// The C allocator's side of the daemon's memory (glibc on Linux): libtorch's tensors, the decoder's and the PNG
/// encoder's native buffers are malloc'd on the pipeline's threads. By default glibc gives each thread that meets
/// contention an arena of its own (up to 8 per core) and keeps what is freed in each for reuse, so resident memory
/// climbs with every thread that ever scored or encoded and does not come down after a burst. The daemon caps the
/// arenas at start (unless <c>MALLOC_ARENA_MAX</c> is set) and gives freed memory back whenever the pipeline has
/// drained (<c>Inspection:TrimNativeMemory</c>): not after every part, because on a virtual machine every page handed
/// back costs a page fault when the next part takes it again. Nothing happens elsewhere than on glibc.
/// </summary>
internal static partial class NativeHeap
{
    private const int ArenaMaxParameter = -8; // M_ARENA_MAX (malloc.h)
    private const int Arenas = 2;

    /// <summary>Caps glibc's arenas at two (one per stage that allocates much) unless the environment names a cap.</summary>
    public static void CapArenas()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null) return;
        try { _ = MallOpt(ArenaMaxParameter, Arenas); }
        catch (DllNotFoundException) { }
        catch (EntryPointNotFoundException) { } // not glibc (musl has no arenas to cap)
    }

    /// <summary>malloc_trim(0): returns the free pages of every arena to the system. A few milliseconds; false where unavailable.</summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try { return MallocTrim(0) != 0; }
        catch (DllNotFoundException) { return false; }
        catch (EntryPointNotFoundException) { return false; }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
