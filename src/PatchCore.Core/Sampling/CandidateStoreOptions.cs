using TorchSharp;

namespace PatchCore.Core.Sampling;

/// <summary>How a <see cref="CandidateStore"/> projects and keeps its rows.</summary>
internal sealed record CandidateStoreOptions
{
    /// <summary>Width of the seeded Gaussian random projection computed at append time.</summary>
    public int ProjectionDim { get; init; } = 128;

    /// <summary>Seed of the projection matrix (must equal <see cref="CoresetOptions.Seed"/> when sampling).</summary>
    public int Seed { get; init; }

    /// <summary>Device the projection matmul runs on; null means the CPU.</summary>
    public torch.Device? Device { get; init; }

    /// <summary>Where the full float16 rows are kept (the projected rows: <see cref="ProjectionMemoryBytes"/>).</summary>
    public CandidateRowStorage RowStorage { get; init; } = CandidateRowStorage.Memory;

    /// <summary>
    /// With <see cref="CandidateRowStorage.Memory"/>: bytes of RAM the float16 rows may take; chunks beyond it go to
    /// a memory-mapped temp file. Null means half of the RAM available when the store is created.
    /// </summary>
    public long? MemoryBudgetBytes { get; init; }

    /// <summary>
    /// Bytes of RAM the float32 projections may take (whole chunks of <see cref="ChunkRows"/> rows, at least one); the projections of
    /// later rows go to a temp file (OS page cache, not process memory) and are read back in blocks. The default 512 MiB
    /// holds 1,048,576 rows of 128: every candidate of a set the exact greedy takes (<see cref="CoresetOptions.TwoStageAbove"/>).
    /// </summary>
    public long ProjectionMemoryBytes { get; init; } = 512L << 20;

    /// <summary>Folder of the temp files (mapped spill chunks or the row file); null means the system temp folder.</summary>
    public string? SpillDirectory { get; init; }

    /// <summary>Rows per storage chunk; null picks about 32 MiB of float16 per chunk.</summary>
    public int? ChunkRows { get; init; }
}
