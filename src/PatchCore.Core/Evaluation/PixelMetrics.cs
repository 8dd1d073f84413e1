namespace PatchCore.Core.Evaluation;

/// <summary>
/// Computes <see cref="PixelAuroc"/>, <see cref="Aupro"/>, <see cref="F1Max"/> and the ROC curve in one sweep
/// over the accumulator (one sort and one merge instead of four); each figure is the same as its own class gives.
/// </summary>
public static class PixelMetrics
{
    public static PixelMetricSet Compute(PixelScoreAccumulator pixels, double fprLimit = Aupro.DefaultFprLimit,
        int maxCurvePoints = PixelAuroc.DefaultMaxCurvePoints)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        Aupro.CheckLimit(fprLimit);
        long positives = pixels.AnomalousPixelCount, negatives = pixels.NormalPixelCount;
        var auroc = new AurocSink(positives, negatives);
        var aupro = new AuproSink(negatives, pixels.RegionCount, fprLimit);
        var f1 = new F1Sink(positives);
        var curve = new RocCurveSink(positives, negatives, maxCurvePoints);
        pixels.Sweep(auroc, aupro, f1, curve);
        return new PixelMetricSet(auroc.Result(), aupro.Result(), f1.Result(), curve.Result(), fprLimit);
    }
}
