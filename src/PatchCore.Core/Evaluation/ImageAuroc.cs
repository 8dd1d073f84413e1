namespace PatchCore.Core.Evaluation;

/// <summary>
/// Exact image-level AUROC: the probability that a random anomalous image scores above a random normal one,
/// ties counting one half. This equals the rank-sum (Mann-Whitney U) AUC with average ranks for tied scores and
/// the trapezoidal area under the ROC curve with one point per distinct score. No binning.
/// </summary>
public static class ImageAuroc
{
    /// <summary>Computes the AUROC of per-image scores (higher = more anomalous).</summary>
    /// <param name="scores">One score per image; NaN is rejected.</param>
    /// <param name="isAnomalous">One label per image, true for defect images.</param>
    /// <returns>
    /// The AUROC in [0, 1]; <see cref="double.NaN"/> when only one class is present (no anomalous or no normal
    /// image, or no image at all), where the AUROC is undefined.
    /// </returns>
    /// <exception cref="ArgumentException">The two spans differ in length.</exception>
    /// <exception cref="PatchCoreException">A score is NaN.</exception>
    public static double Compute(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isAnomalous)
    {
        var runs = LabelledScores.Sorted(scores, isAnomalous, out long positives, out long negatives);
        var auroc = new AurocSink(positives, negatives);
        ScoreSweep.Run(runs, null, auroc);
        return auroc.Result();
    }

    /// <summary>
    /// The ROC curve, one point per distinct score (no downsampling), from (0, 0) to (1, 1);
    /// <see cref="RocCurve.Empty"/> for one-class input.
    /// </summary>
    public static RocCurve Curve(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isAnomalous)
    {
        var runs = LabelledScores.Sorted(scores, isAnomalous, out long positives, out long negatives);
        var curve = new RocCurveSink(positives, negatives, maxPoints: 0);
        ScoreSweep.Run(runs, null, curve);
        return curve.Result();
    }
}
