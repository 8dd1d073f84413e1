namespace PatchCore.Core.Search;

/// <summary>How a <see cref="ProjectedIvfIndex"/> partitions and shortlists.</summary>
internal sealed record ProjectedIvfOptions
{
    public static ProjectedIvfOptions Default { get; } = new();

    /// <summary>Largest <see cref="Candidates"/> and <see cref="Probes"/>.</summary>
    public const int MaxCandidates = 4096;

    /// <summary>Principal components the lists are built in and the shortlist is ranked by.</summary>
    public int ProjectionDim { get; init; } = 64;

    /// <summary>k-means lists; null = the power of two nearest 2 sqrt(N), between 16 and 4096.</summary>
    public int? Lists { get; init; }

    /// <summary>Lists searched per query (those with the nearest centroids).</summary>
    public int Probes { get; init; } = 8;

    /// <summary>
    /// Vectors per query, ranked by their lower bound in the projection, that are re-ranked exactly; at least k. Walking
    /// the shortlist in bound order, a vector gets an exact distance only where its bounds (the coarse one, then a
    /// refined one) could still beat the k-th best distance found, so the result equals exact distances for all of it.
    /// </summary>
    public int Candidates { get; init; } = 16;

    /// <summary>
    /// Principal components of a refined bound checked in the re-ranking; at most <see cref="ProjectionDim"/> (the
    /// default) turns it off. On the bottle bank a 256-component bound made the search slower: projecting each query
    /// onto 256 components cost more than the exact distances it saved.
    /// </summary>
    public int RefinedDim { get; init; }

    /// <summary>Bank rows (evenly spaced) the principal components are fitted on.</summary>
    public int SampleRows { get; init; } = 16384;

    /// <summary>Seed of the k-means initialisation.</summary>
    public int Seed { get; init; } = 1234;

    public void Validate()
    {
        if (ProjectionDim < 1) throw new PatchCoreException($"The projection width must be at least 1 (got {ProjectionDim}).");
        if (Lists is < 1) throw new PatchCoreException($"The list count must be at least 1 (got {Lists}).");
        if (Probes is < 1 or > MaxCandidates) throw new PatchCoreException($"The probe count must be between 1 and {MaxCandidates} (got {Probes}).");
        // The shortlist lives on the stack of each search thread.
        if (Candidates is < 1 or > MaxCandidates) throw new PatchCoreException($"The candidate count must be between 1 and {MaxCandidates} (got {Candidates}).");
        if (SampleRows < 1) throw new PatchCoreException($"The PCA sample must hold at least 1 row (got {SampleRows}).");
    }

    /// <summary>Lists for a bank of <paramref name="vectors"/> rows.</summary>
    public int ListsFor(long vectors) =>
        (int)Math.Min(Math.Max(1, vectors), Lists ?? 1 << (int)Math.Clamp(Math.Round(Math.Log2(2 * Math.Sqrt(Math.Max(1, vectors)))), 4, 12));

    public override string ToString() => $"PCA{ProjectionDim} IVF{(Lists is int l ? l.ToString(System.Globalization.CultureInfo.InvariantCulture) : "auto")} nprobe={Probes}, exact re-rank of {Candidates}";
}
