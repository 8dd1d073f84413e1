namespace PatchCore.Core.Scoring;

/// <summary>
/// The thresholds that turn scores into verdicts and maps into regions, all calibrated from good images only
/// (<see cref="MemoryBank.Calibration"/>); a null one is not set. See <see cref="VerdictOf"/>.
/// </summary>
public sealed record Thresholds
{
    /// <summary>Image score at or above which a part is <see cref="Verdict.Ng"/>.</summary>
    public double? Ng { get; init; }
    /// <summary>Image score at or above which a part below <see cref="Ng"/> is <see cref="Verdict.Review"/>; null: no review band.</summary>
    public double? Review { get; init; }
    /// <summary>Anomaly-map value at or above which a pixel belongs to a defect region; null: no regions.</summary>
    public double? Pixel { get; init; }

    /// <summary>The verdict for an image score; null without an ng threshold.</summary>
    public Verdict? VerdictOf(double score)
    {
        if (Ng is not double ng) return null;
        if (score >= ng) return Verdict.Ng;
        return Review is double review && score >= review ? Verdict.Review : Verdict.Ok;
    }

    /// <summary>Each threshold of <paramref name="overrides"/> that is set replaces this one.</summary>
    public Thresholds With(Thresholds? overrides) => overrides is null ? this : new Thresholds
    {
        Ng = overrides.Ng ?? Ng,
        Review = overrides.Review ?? Review,
        Pixel = overrides.Pixel ?? Pixel,
    };

    public void Validate()
    {
        foreach (var (name, value) in new[] { ("ng", Ng), ("review", Review), ("pixel", Pixel) })
            if (value is double v && !(double.IsFinite(v) && v >= 0))
                throw new PatchCoreException($"The {name} threshold must be a finite number >= 0, got {v}.");
        if (Ng is double n && Review is double r && r > n)
            throw new PatchCoreException($"The review threshold ({r}) is above the ng threshold ({n}): nothing would be sent to review.");
    }
}
