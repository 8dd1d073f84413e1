namespace PatchCore.Core.Search;

/// <summary>How a <see cref="ProjectedFlatIndex"/> bounds and prunes.</summary>
internal sealed record ProjectedSearchOptions
{
    /// <summary>
    /// The exact default: 64 principal components bound every distance, 256 bound again those the first bound lets
    /// through, the bank is split into up to 256 k-means lists of about 48 rows, and every vector that could still be
    /// among the k nearest gets an exact distance. (Of 48/256, 64/256, 64/384, 96/256, 128/256 and 128 alone, this
    /// pair searched the bottle bank, 16,385 x 1024, fastest relative to FAISS Flat on two shared cores; 128 lists
    /// and 32-query groups were not faster on the full bottle bank.)
    /// </summary>
    public static ProjectedSearchOptions ExactDefault { get; } = new();

    /// <summary>Most lists the default splits a bank into.</summary>
    public const int MaxDefaultLists = 256;

    /// <summary>Bank rows per list the default aims at.</summary>
    public const int DefaultRowsPerList = 48;

    /// <summary>Principal components of the coarse lower bounds (computed for 16 bank rows at a time).</summary>
    public int ProjectionDim { get; init; } = 64;

    /// <summary>
    /// Principal components of the refined bound, checked before an exact distance for every row the
    /// coarse bound lets through; at most <see cref="ProjectionDim"/> turns it off. It keeps [N, RefinedDim] floats
    /// beside the bank (a quarter of the bank at 256 of 1024 dimensions).
    /// </summary>
    public int RefinedDim { get; init; } = 256;

    /// <summary>k-means lists in the coarse projection; null = one per <see cref="DefaultRowsPerList"/> rows, at most <see cref="MaxDefaultLists"/>.</summary>
    public int? Lists { get; init; }

    /// <summary>Bank rows (evenly spaced) the principal components are fitted on.</summary>
    public int SampleRows { get; init; } = 16384;

    /// <summary>Seed of the k-means initialisation (the lists only decide the speed, never the result).</summary>
    public int Seed { get; init; } = 1234;

    public void Validate()
    {
        if (ProjectionDim < 1) throw new PatchCoreException($"The projection width must be at least 1 (got {ProjectionDim}).");
        if (Lists is < 1) throw new PatchCoreException($"The list count must be at least 1 (got {Lists}).");
        if (SampleRows < 1) throw new PatchCoreException($"The PCA sample must hold at least 1 row (got {SampleRows}).");
    }

    /// <summary>Lists for a bank of <paramref name="vectors"/> rows (at most one per row).</summary>
    public int ListsFor(long vectors) =>
        (int)Math.Clamp(Lists ?? Math.Min(MaxDefaultLists, vectors / DefaultRowsPerList), 1, Math.Max(1, vectors));

    public override string ToString() =>
        $"exact, PCA{ProjectionDim}{(RefinedDim > ProjectionDim ? $"+{RefinedDim}" : "")} bounds in {(Lists is int l ? l.ToString(System.Globalization.CultureInfo.InvariantCulture) : "auto")} k-means lists";
}
