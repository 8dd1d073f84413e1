namespace PatchCore.Core.MemoryBank;

/// <summary>
/// What the held-out good images (never in the bank) said, and the thresholds derived from them: good images only,
/// no defect image is ever needed. The rules are recorded as text beside each threshold.
/// <list type="bullet">
/// <item>ng (<see cref="Threshold"/>): max(quantile(q), mean + k std) x (1 + margin) of the held-out image scores.</item>
/// <item>review (<see cref="ReviewThreshold"/>): the highest held-out image score: a part above every known-good part
/// and below the ng threshold goes to a person.</item>
/// <item>pixel (<see cref="PixelThreshold"/>): the 0.999 quantile of all held-out anomaly-map pixels x 1.05.</item>
/// <item>image scores by position (<see cref="ImageScore"/>): each held-out image is scored against the statistics of
/// the others (leave one out), and the ng and review rules apply to those scores.</item>
/// </list>
/// Banks written before a field existed read it as null (no review band, no regions, no held-out paths).
/// </summary>
public sealed record Calibration
{
    /// <summary>File names of the held-out good images, aligned with <see cref="HeldOutScores"/>.</summary>
    public IReadOnlyList<string> HeldOutImages { get; init; } = [];
    public IReadOnlyList<double> HeldOutScores { get; init; } = [];
    /// <summary>
    /// Full paths of the held-out images when they were scored, aligned with <see cref="HeldOutImages"/> (an entry is
    /// null where the path is not known), so that an update can score them again against the new bank.
    /// </summary>
    public IReadOnlyList<string?>? HeldOutPaths { get; init; }
    /// <summary>sha256 of each held-out image, aligned with <see cref="HeldOutImages"/>: an update re-scores only the same bytes.</summary>
    public IReadOnlyList<string?>? HeldOutSha256 { get; init; }
    /// <summary>
    /// Held-out images whose scores an update carried over from the parent bank instead of scoring them again (missing,
    /// changed or unreadable file; "name: why"). A bank with more vectors can only lower an image's score, so a carried
    /// score is a conservative (high) bound.
    /// </summary>
    public IReadOnlyList<string> CarriedOver { get; init; } = [];
    public double Mean { get; init; }
    public double StdDev { get; init; }
    public double Max { get; init; }
    public string Rule { get; init; } = "";
    /// <summary>The ng threshold on image scores.</summary>
    public double? Threshold { get; init; }
    public double? ReviewThreshold { get; init; }
    public string ReviewRule { get; init; } = "";
    public double? PixelThreshold { get; init; }
    public string PixelRule { get; init; } = "";
    /// <summary>Median of the held-out anomaly-map pixels: a typical good level (the calm end of the overlays' colour scale).</summary>
    public double? PixelMedian { get; init; }
    /// <summary>Highest held-out anomaly-map pixel.</summary>
    public double? PixelMax { get; init; }
    /// <summary>
    /// How image scores are read (<see cref="Scoring.ImageScoreRule"/>); the held-out scores and the ng and review
    /// thresholds are in its units. Banks written before the rule existed read as Max.
    /// </summary>
    public Scoring.ImageScoreRule ImageScore { get; init; } = Scoring.ImageScoreRule.Max;
    /// <summary>The held-out maps' statistics by position (<see cref="Scoring.ImageScoreRule.Position"/> only; null otherwise).</summary>
    public Scoring.PositionStatistics? Position { get; init; }
    /// <summary>
    /// Why the build chose <see cref="ImageScore"/> when asked for <see cref="Scoring.ImageScoreRule.Auto"/> (for example
    /// "21 held-out good maps of 224x224"); null when the rule was given.
    /// </summary>
    public string? ImageScoreChoice { get; init; }
}
