namespace PatchCore.Core.Search;

/// <summary>How a <see cref="ProjectedFlatIndex"/> bounds and prunes.</summary>
internal sealed record ProjectedSearchOptions
{
    /// <summary>
    /// The exact default: 64 principal components bound every distance, 256 bound again those the first bound lets
    /// through, and every vector that could still be among the k nearest gets an exact distance. (Of 48/256, 64/256,
    /// 64/384, 96/256, 128/256 and 128 alone, this pair searched the bottle bank, 16,385 x 1024, fastest relative to
    /// FAISS Flat on two shared cores.)
    /// </summary>
    public static ProjectedSearchOptions ExactDefault { get; } = new();

    /// <summary>Largest <see cref="Candidates"/>.</summary>
    public const int MaxCandidates = 4096;

    /// <summary>Principal components of the coarse lower bounds (one sgemm per block of queries x bank rows).</summary>
    public int ProjectionDim { get; init; } = 64;

    /// <summary>
    /// Principal components of the refined bound, checked before an exact distance for every row the
    /// coarse bound lets through; at most <see cref="ProjectionDim"/> turns it off. It keeps [N, RefinedDim] floats
    /// beside the bank (a quarter of the bank at 256 of 1024 dimensions).
    /// </summary>
    public int RefinedDim { get; init; } = 256;

    /// <summary>
    /// Vectors per query (and bank block) with the smallest bounds that get an exact distance first, to set the pruning
    /// threshold. At least k are always taken.
    /// </summary>
    public int Candidates { get; init; } = 4;

    /// <summary>Bank rows (evenly spaced) the principal components are fitted on.</summary>
    public int SampleRows { get; init; } = 16384;

    public void Validate()
    {
        if (ProjectionDim < 1) throw new PatchCoreException($"The projection width must be at least 1 (got {ProjectionDim}).");
        // The shortlist lives on the stack of each search thread.
        if (Candidates is < 1 or > MaxCandidates) throw new PatchCoreException($"The candidate count must be between 1 and {MaxCandidates} (got {Candidates}).");
        if (SampleRows < 1) throw new PatchCoreException($"The PCA sample must hold at least 1 row (got {SampleRows}).");
    }

    public override string ToString() => $"exact, PCA{ProjectionDim}{(RefinedDim > ProjectionDim ? $"+{RefinedDim}" : "")} bounds";
}
