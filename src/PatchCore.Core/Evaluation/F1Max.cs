namespace PatchCore.Core.Evaluation;

/// <summary>
/// The best F1 score over every threshold at a distinct score (predicted anomalous when score &gt;= threshold),
/// with the threshold that reaches it (the highest one when several tie). Exact, no binning.
/// </summary>
public static class F1Max
{
    /// <summary>Image level. <see cref="F1MaxResult.Undefined"/> (NaN) when no image is anomalous.</summary>
    /// <exception cref="ArgumentException">The two spans differ in length.</exception>
    /// <exception cref="PatchCoreException">A score is NaN.</exception>
    public static F1MaxResult Compute(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isAnomalous)
    {
        var runs = LabelledScores.Sorted(scores, isAnomalous, out long positives, out _);
        var f1 = new F1Sink(positives);
        ScoreSweep.Run(runs, null, f1);
        return f1.Result();
    }

    /// <summary>Pixel level over the accumulator. <see cref="F1MaxResult.Undefined"/> when no pixel is anomalous.</summary>
    public static F1MaxResult Compute(PixelScoreAccumulator pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        var f1 = new F1Sink(pixels.AnomalousPixelCount);
        pixels.Sweep(f1);
        return f1.Result();
    }
}
