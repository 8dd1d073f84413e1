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

    /// <summary>Where the full float16 rows are kept (the projected rows are always in memory).</summary>
    public CandidateRowStorage RowStorage { get; init; } = CandidateRowStorage.Memory;

    /// <summary>
    /// With <see cref="CandidateRowStorage.Memory"/>: bytes of RAM the float16 rows may take; chunks beyond it go to
    /// a memory-mapped temp file. Null means half of the RAM available when the store is created.
    /// </summary>
    public long? MemoryBudgetBytes { get; init; }

    /// <summary>Folder of the temp files (mapped spill chunks or the row file); null means the system temp folder.</summary>
    public string? SpillDirectory { get; init; }

    /// <summary>Rows per storage chunk; null picks about 32 MiB of float16 per chunk.</summary>
    public int? ChunkRows { get; init; }
}
