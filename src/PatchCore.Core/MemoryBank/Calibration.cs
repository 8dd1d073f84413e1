namespace PatchCore.Core.MemoryBank;

/// <summary>
/// What the held-out good images (never in the bank) said, and the thresholds derived from them: good images only,
/// no defect image is ever needed. The rules are recorded as text beside each threshold.
/// <list type="bullet">
/// <item>ng (<see cref="Threshold"/>): max(quantile(q), mean + k std) x (1 + margin) of the held-out image scores.</item>
/// <item>review (<see cref="ReviewThreshold"/>): the highest held-out image score: a part above every known-good part
/// and below the ng threshold goes to a person.</item>
/// <item>pixel (<see cref="PixelThreshold"/>): the 0.999 quantile of all held-out anomaly-map pixels x 1.05.</item>
/// </list>
/// Banks written before a field existed read it as null (no review band, no regions).
/// </summary>
public sealed record Calibration
{
    public IReadOnlyList<string> HeldOutImages { get; init; } = [];
    public IReadOnlyList<double> HeldOutScores { get; init; } = [];
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
}
