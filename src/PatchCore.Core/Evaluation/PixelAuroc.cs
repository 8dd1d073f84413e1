namespace PatchCore.Core.Evaluation;

/// <summary>
/// Exact pixel-level AUROC over every pixel of the test set, the same computation as <see cref="ImageAuroc"/>
/// (ties count one half), run over a <see cref="PixelScoreAccumulator"/> without copying its data.
/// </summary>
public static class PixelAuroc
{
    /// <summary>Default bound on the points of <see cref="Curve"/>, enough for a plot.</summary>
    public const int DefaultMaxCurvePoints = 2000;

    /// <summary>The pixel AUROC; <see cref="double.NaN"/> when no pixel is anomalous or none is normal.</summary>
    public static double Compute(PixelScoreAccumulator pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        var auroc = new AurocSink(pixels.AnomalousPixelCount, pixels.NormalPixelCount);
        pixels.Sweep(auroc);
        return auroc.Result();
    }

    /// <summary>
    /// The pixel ROC curve, downsampled for plotting: a point is kept only after the curve moved at least
    /// 2 / (maxPoints - 2) along FPR or TPR, so at most about <paramref name="maxPoints"/> points, always
    /// including (0, 0) and (1, 1). maxPoints &lt;= 0 keeps every distinct score. Empty for one-class input.
    /// </summary>
    public static RocCurve Curve(PixelScoreAccumulator pixels, int maxPoints = DefaultMaxCurvePoints)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        var curve = new RocCurveSink(pixels.AnomalousPixelCount, pixels.NormalPixelCount, maxPoints);
        pixels.Sweep(curve);
        return curve.Result();
    }
}
