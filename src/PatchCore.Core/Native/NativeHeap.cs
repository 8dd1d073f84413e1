namespace PatchCore.Core.Native;

/// <summary>
/// The C allocator's settings for a process that scores (glibc on Linux; nothing happens elsewhere). libtorch's
/// tensors, the decoder's and the PNG encoder's native buffers are malloc'd, so these settings are the hosts' to make,
/// once at start, before the threads that allocate much exist: the library itself never calls them.
/// <list type="bullet">
/// <item><see cref="KeepLargeBlocks"/>: by default glibc serves a block above its mmap threshold (128 KiB at first,
/// rising to the largest mapped block freed so far, at most 32 MiB) with a mapping of its own, and hands back free
/// memory at the top of the main heap beyond twice that threshold. A backbone batch's activations (25 MiB for one layer
/// of a batch of 8 at 224x224) then keep coming back as fresh pages, and on a virtual machine each 4 KiB page costs a
/// fault (about 15 us here). Fixed thresholds of <see cref="MmapThresholdBytes"/> and <see cref="TrimThresholdBytes"/>
/// keep more of them in the heaps for reuse. They do not cover everything: a block that needed a new heap in a thread's
/// arena (heaps of at most 64 MiB) is still unmapped when that heap empties. Measured (83 bottle test images scored at
/// batch 8 against a bank of 14,739 vectors, three interleaved runs each): the embedding phase took 19 ms per image
/// with them and 18-37 ms without, and system time fell from 4.0-5.1 s to 3.7-4.2 s.</item>
/// <item><see cref="CapArenas"/>: glibc gives each thread that meets contention an arena of its own (up to 8 per
/// core) and keeps what is freed in each, so resident memory climbs with every thread that ever scored or encoded.</item>
/// <item><see cref="Trim"/>: gives the free pages of every arena back, for a long-running process between bursts.</item>
/// </list>
/// A setting the environment makes itself (<c>MALLOC_ARENA_MAX</c>, <c>MALLOC_MMAP_THRESHOLD_</c>,
/// <c>MALLOC_TRIM_THRESHOLD_</c>, or the same tunables named in <c>GLIBC_TUNABLES</c>) is left as it is.
/// </summary>
public static class NativeHeap
{
    private const int TrimThresholdParameter = -1; // M_TRIM_THRESHOLD (malloc.h)
    private const int MmapThresholdParameter = -3; // M_MMAP_THRESHOLD
    private const int ArenaMaxParameter = -8;      // M_ARENA_MAX

    /// <summary>Blocks below this come from the heap (above it, a mapping of their own).</summary>
    public const int MmapThresholdBytes = 64 << 20;
    /// <summary>Free memory at the top of a heap beyond this goes back to the system.</summary>
    public const int TrimThresholdBytes = 128 << 20;

    /// <summary>Whether this process fixed the thresholds (<see cref="KeepLargeBlocks"/> returned true).</summary>
    public static bool LargeBlocksKept { get; private set; }

    /// <summary>
    /// Fixes the mmap and trim thresholds (<see cref="MmapThresholdBytes"/>, <see cref="TrimThresholdBytes"/>) unless the
    /// environment sets them. True when both were set.
    /// </summary>
    public static bool KeepLargeBlocks()
    {
        if (!OperatingSystem.IsLinux() || SetByEnvironment(("MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold"), ("MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold"))) return false;
        bool set = MallOptOrFalse(MmapThresholdParameter, MmapThresholdBytes) && MallOptOrFalse(TrimThresholdParameter, TrimThresholdBytes);
        LargeBlocksKept |= set;
        return set;
    }

    /// <summary>Caps glibc's arenas at <paramref name="arenas"/> unless the environment names a cap. True when set.</summary>
    public static bool CapArenas(int arenas)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(arenas, 1);
        if (!OperatingSystem.IsLinux() || SetByEnvironment(("MALLOC_ARENA_MAX", "glibc.malloc.arena_max"))) return false;
        return MallOptOrFalse(ArenaMaxParameter, arenas);
    }

    /// <summary>malloc_trim(0): returns the free pages of every arena to the system. A few milliseconds; false where unavailable.</summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try { return LibC.MallocTrim(0) != 0; }
        catch (DllNotFoundException) { return false; }
        catch (EntryPointNotFoundException) { return false; }
    }

    /// <summary>Whether the environment sets any of these, as a variable of its own or as a tunable in GLIBC_TUNABLES.</summary>
    private static bool SetByEnvironment(params (string Variable, string Tunable)[] settings)
    {
        string tunables = Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "";
        return settings.Any(s => Environment.GetEnvironmentVariable(s.Variable) is not null || tunables.Contains(s.Tunable + "=", StringComparison.Ordinal));
    }

    private static bool MallOptOrFalse(int parameter, int value)
    {
        try { return LibC.MallOpt(parameter, value) == 1; }
        catch (DllNotFoundException) { return false; }
        catch (EntryPointNotFoundException) { return false; } // not glibc (musl has neither arenas nor these thresholds)
    }
}
