using PatchCore.Core.Evaluation;
using Xunit;

namespace PatchCore.Core.Tests.Evaluation;

public class ImageMetricTests
{
    // Normals 1, 2, 3, 3; anomalous 3, 4, 2.
    // Pairs (anomalous vs normal): 3 -> 1 + 1 + 0.5 + 0.5 = 3; 4 -> 4; 2 -> 1 + 0.5 = 1.5; total 8.5 of 12 = 17/24.
    private static readonly float[] TieScores = [1, 2, 3, 3, 3, 4, 2];
    private static readonly bool[] TieLabels = [false, false, false, false, true, true, true];

    [Fact]
    public void AurocCountsTiesAsHalf()
    {
        Assert.Equal(17.0 / 24.0, ImageAuroc.Compute(TieScores, TieLabels), 12);
    }

    [Fact]
    public void AurocIsOneForPerfectSeparationAndZeroForReversed()
    {
        float[] scores = [0.1f, 0.2f, 0.8f, 0.9f];
        Assert.Equal(1.0, ImageAuroc.Compute(scores, [false, false, true, true]));
        Assert.Equal(0.0, ImageAuroc.Compute(scores, [true, true, false, false]));
        Assert.Equal(0.5, ImageAuroc.Compute([5f, 5f, 5f, 5f], [true, false, true, false]));
    }

    [Fact]
    public void AurocDoesNotDependOnInputOrder()
    {
        var rng = new Random(3);
        int[] perm = Enumerable.Range(0, TieScores.Length).OrderBy(_ => rng.Next()).ToArray();
        Assert.Equal(ImageAuroc.Compute(TieScores, TieLabels),
            ImageAuroc.Compute(perm.Select(i => TieScores[i]).ToArray(), perm.Select(i => TieLabels[i]).ToArray()));
    }

    [Fact]
    public void OneClassInputGivesNaN()
    {
        Assert.True(double.IsNaN(ImageAuroc.Compute([0.1f, 0.2f], [false, false])));
        Assert.True(double.IsNaN(ImageAuroc.Compute([0.1f, 0.2f], [true, true])));
        Assert.True(double.IsNaN(ImageAuroc.Compute([], [])));
        Assert.Equal(0, ImageAuroc.Curve([0.1f, 0.2f], [true, true]).Count);
        Assert.True(double.IsNaN(F1Max.Compute([0.1f, 0.2f], [false, false]).F1));
    }

    [Fact]
    public void F1WithoutNormalsIsOneAtTheLowestScore()
    {
        var f1 = F1Max.Compute([0.3f, 0.1f, 0.2f], [true, true, true]);
        Assert.Equal(1.0, f1.F1);
        Assert.Equal(0.1f, f1.Threshold);
    }

    [Fact]
    public void BadInputIsRejected()
    {
        Assert.Throws<ArgumentException>(() => ImageAuroc.Compute([0.1f, 0.2f], [true]));
        var ex = Assert.Throws<PatchCoreException>(() => ImageAuroc.Compute([0.1f, float.NaN], [true, false]));
        Assert.Contains("NaN", ex.Message);
    }

    [Fact]
    public void F1MaxMatchesHandComputedSweep()
    {
        // Thresholds 4, 3, 2, 1 give F1 = 2/4, 4/7, 6/9, 6/10 (F1 = 2TP / (TP + FP + P), P = 3).
        var f1 = F1Max.Compute(TieScores, TieLabels);
        Assert.Equal(2.0 / 3.0, f1.F1, 12);
        Assert.Equal(2f, f1.Threshold);
        Assert.Equal(0.5, f1.Precision, 12);
        Assert.Equal(1.0, f1.Recall, 12);
    }

    [Fact]
    public void F1MaxKeepsTheHighestThresholdAmongEqualScores()
    {
        // Anomalous 9 and 6, normal 8 and 7: F1 is 2/3 at threshold 9 and again at 6.
        var f1 = F1Max.Compute([9f, 8f, 7f, 6f], [true, false, false, true]);
        Assert.Equal(2.0 / 3.0, f1.F1, 12);
        Assert.Equal(9f, f1.Threshold);
    }

    [Fact]
    public void RocCurveHasOnePointPerDistinctScore()
    {
        var roc = ImageAuroc.Curve(TieScores, TieLabels);
        // Distinct scores 4, 3, 2, 1 plus the origin.
        Assert.Equal([0, 0, 0.5, 0.75, 1], roc.FalsePositiveRates);
        Assert.Equal([0, 1 / 3.0, 2 / 3.0, 1, 1], roc.TruePositiveRates);
        Assert.Equal([float.PositiveInfinity, 4f, 3f, 2f, 1f], roc.Thresholds);
        // Trapezoids under these points equal the rank AUROC.
        double area = 0;
        for (int i = 1; i < roc.Count; i++)
            area += (roc.FalsePositiveRates[i] - roc.FalsePositiveRates[i - 1]) * (roc.TruePositiveRates[i] + roc.TruePositiveRates[i - 1]) / 2;
        Assert.Equal(17.0 / 24.0, area, 12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void AurocAndF1MatchNaiveFormulasOnRandomTiedData(int seed)
    {
        var (scores, labels) = RandomData(seed, 400);
        double auroc = ImageAuroc.Compute(scores, labels);
        Assert.Equal(ReferenceMetrics.PairwiseAuroc(scores, labels), auroc, 12);
        Assert.Equal(ReferenceMetrics.AverageRankAuroc(scores, labels), auroc, 12);
        var f1 = F1Max.Compute(scores, labels);
        var (bruteF1, bruteThreshold) = ReferenceMetrics.BruteF1Max(scores, labels);
        Assert.Equal(bruteF1, f1.F1, 12);
        Assert.Equal(bruteThreshold, f1.Threshold);
    }

    /// <summary>Scores on a coarse grid (many ties), anomalous ones shifted up a little.</summary>
    internal static (float[] Scores, bool[] Labels) RandomData(int seed, int count)
    {
        var rng = new Random(seed);
        var labels = new bool[count];
        var scores = new float[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = rng.NextDouble() < 0.4;
            scores[i] = MathF.Round((float)(rng.NextDouble() + (labels[i] ? 0.3 : 0)) * 10f) / 10f;
        }
        return (scores, labels);
    }
}
