namespace PatchCore.Core.Sampling;

/// <summary>
/// Settings of the approximate greedy coreset (PatchCore's ApproximateGreedyCoresetSampler).
/// </summary>
/// <param name="Fraction">Share of the candidates to keep, in (0, 1]; the count is floor(N * Fraction), at least 1.</param>
/// <param name="Count">Absolute number to keep; overrides <paramref name="Fraction"/>; clamped to N.</param>
/// <param name="ProjectionDim">Width of the seeded random projection the greedy runs in.</param>
/// <param name="StartPoints">Random points whose mean distance seeds the min-distance vector (not selected).</param>
/// <param name="Seed">Seeds the projection and the start points.</param>
internal sealed record CoresetOptions(
    double Fraction = 0.1,
    int? Count = null,
    int ProjectionDim = 128,
    int StartPoints = 10,
    int Seed = 0)
{
    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the bad setting.</summary>
    public void Validate()
    {
        if (Count is null && !(Fraction > 0 && Fraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(Fraction), Fraction, $"Coreset fraction must be in (0, 1], got {Fraction}.");
        if (Count is < 1)
            throw new ArgumentOutOfRangeException(nameof(Count), Count, $"Coreset count must be at least 1, got {Count}.");
        if (ProjectionDim < 1)
            throw new ArgumentOutOfRangeException(nameof(ProjectionDim), ProjectionDim, $"Projection width must be at least 1, got {ProjectionDim}.");
        if (StartPoints < 1)
            throw new ArgumentOutOfRangeException(nameof(StartPoints), StartPoints, $"Start point count must be at least 1, got {StartPoints}.");
    }

    /// <summary>
    /// Number of points to select from <paramref name="candidates"/>: <see cref="Count"/> if given, else
    /// floor(N * Fraction) as PatchCore's code does (int(len * percentage)); clamped to [1, N].
    /// </summary>
    public int ResolveCount(long candidates)
    {
        Validate();
        if (candidates < 1)
            throw new PatchCoreException("The candidate store is empty: append embeddings before selecting a coreset.");
        // The tiny offset keeps products such as 70 * 0.1 = 7.000000000000001 and 10 * 0.7 = 6.999999999999999 at 7.
        long wanted = Count ?? (long)Math.Floor(candidates * Fraction + 1e-9);
        return (int)Math.Clamp(wanted, 1, Math.Min(candidates, int.MaxValue));
    }

    /// <summary>Store settings whose projection matches these options (same width and seed).</summary>
    public CandidateStoreOptions ToStoreOptions() => new() { ProjectionDim = ProjectionDim, Seed = Seed };
}
