using Microsoft.ML;
using Microsoft.ML.Data;
using PatchCore.Core.Evaluation;
using Xunit;

namespace PatchCore.Core.Tests.Evaluation;

/// <summary>Image AUROC and F1 against Microsoft.ML's binary-classification evaluator, on random data with many ties.</summary>
public class MlNetCrossCheckTests
{
    private sealed class Row
    {
        public bool Label { get; set; }
        public float Score { get; set; }
        public bool PredictedLabel { get; set; }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void AurocAgreesWithMicrosoftMl(int seed)
    {
        var (scores, labels) = ImageMetricTests.RandomData(seed, 500);
        Assert.True(scores.Distinct().Count() < 30, "the data should be full of ties");
        var ml = new MLContext(seed);
        var metrics = Evaluate(ml, labels, i => scores[i], i => scores[i] >= 0.5f);
        Assert.Equal(metrics.AreaUnderRocCurve, ImageAuroc.Compute(scores, labels), 12);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void F1MaxAgreesWithMicrosoftMl(int seed)
    {
        var (scores, labels) = ImageMetricTests.RandomData(seed, 500);
        var ml = new MLContext(seed);
        var best = F1Max.Compute(scores, labels);

        // Microsoft.ML counts a row as predicted positive when Score > 0 (it does not read PredictedLabel), so the
        // decision "score >= threshold" is handed to it as a +1 / -1 score.
        BinaryClassificationMetrics At(float threshold) =>
            Evaluate(ml, labels, i => scores[i] >= threshold ? 1f : -1f, i => scores[i] >= threshold);

        var atBest = At(best.Threshold);
        Assert.Equal(atBest.F1Score, best.F1, 12);
        Assert.Equal(atBest.PositivePrecision, best.Precision, 12);
        Assert.Equal(atBest.PositiveRecall, best.Recall, 12);
        foreach (float t in scores.Distinct())
            Assert.True(At(t).F1Score <= best.F1 + 1e-12, $"threshold {t} beats the F1-max by Microsoft.ML's count");
    }

    private static BinaryClassificationMetrics Evaluate(MLContext ml, bool[] labels, Func<int, float> score, Func<int, bool> predicted)
    {
        var rows = labels.Select((l, i) => new Row { Label = l, Score = score(i), PredictedLabel = predicted(i) }).ToArray();
        return ml.BinaryClassification.EvaluateNonCalibrated(ml.Data.LoadFromEnumerable(rows));
    }
}
