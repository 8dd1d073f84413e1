namespace PatchCore.Core.Evaluation;

/// <summary>
/// Points of a ROC curve from (0, 0) to (1, 1), one per distinct score (possibly downsampled, see
/// <see cref="PixelAuroc.Curve"/>). <c>Thresholds[i]</c> is the lowest score predicted anomalous at point i
/// (score &gt;= threshold); the first point's threshold is +infinity.
/// </summary>
public sealed record RocCurve(double[] FalsePositiveRates, double[] TruePositiveRates, float[] Thresholds)
{
    public int Count => FalsePositiveRates.Length;

    /// <summary>An empty curve, for one-class input where the ROC is undefined.</summary>
    public static RocCurve Empty { get; } = new([], [], []);
}
