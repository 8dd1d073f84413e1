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
    /// <summary>Exact, two-stage, or chosen by the candidate count (<see cref="TwoStageAbove"/>).</summary>
    public CoresetMethod Method { get; init; } = CoresetMethod.Auto;

    /// <summary>
    /// <see cref="CoresetMethod.Auto"/> runs the two-stage coreset above this many candidates, the exact one up to it.
    /// The default 1,000,000: the exact greedy holds three copies of every candidate's projection (512 bytes each at
    /// 128-D: 1.5 GiB at 1M) and its time grows with candidates x bank size.
    /// </summary>
    public long TwoStageAbove { get; init; } = 1_000_000;

    /// <summary>Rows per block of the two-stage coreset's first pass (consecutive candidates, in the order they were added).</summary>
    public int FirstPassRows { get; init; } = 65_536;

    /// <summary>
    /// The first pass keeps ceil(<see cref="FirstPassFactor"/> x final share x block rows) of each block (at least 1, at
    /// most all): this multiple of the final share survives into the exact second stage.
    /// </summary>
    public double FirstPassFactor { get; init; } = 4;

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
        if (!Enum.IsDefined(Method))
            throw new ArgumentOutOfRangeException(nameof(Method), Method, $"Unknown coreset method {Method}: expected Auto, Exact or TwoStage.");
        if (TwoStageAbove < 0)
            throw new ArgumentOutOfRangeException(nameof(TwoStageAbove), TwoStageAbove, $"The two-stage threshold must not be negative, got {TwoStageAbove}.");
        if (FirstPassRows < 1)
            throw new ArgumentOutOfRangeException(nameof(FirstPassRows), FirstPassRows, $"First-pass block rows must be at least 1, got {FirstPassRows}.");
        if (!(FirstPassFactor >= 1 && double.IsFinite(FirstPassFactor)))
            throw new ArgumentOutOfRangeException(nameof(FirstPassFactor), FirstPassFactor, $"The first pass must keep at least the final share (factor >= 1), got {FirstPassFactor}.");
    }

    /// <summary>The method that runs for <paramref name="candidates"/>: <see cref="Method"/>, or by <see cref="TwoStageAbove"/> when it is Auto.</summary>
    public CoresetMethod ResolveMethod(long candidates)
    {
        Validate();
        return Method != CoresetMethod.Auto ? Method
            : candidates > TwoStageAbove ? CoresetMethod.TwoStage : CoresetMethod.Exact;
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
