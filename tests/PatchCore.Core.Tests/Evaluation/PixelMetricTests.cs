using PatchCore.Core.Evaluation;
using Xunit;

namespace PatchCore.Core.Tests.Evaluation;

public class PixelMetricTests
{
    // Image A, 4x4: region 1 = (0,0),(0,1); region 2 = (2,3),(3,2), joined only diagonally (one region under
    // 8-connectivity, two under 4-connectivity). Image B, 2x2: good, no mask.
    private static readonly byte[] MaskA =
    [
        255, 255, 0, 0,
        0, 0, 0, 0,
        0, 0, 0, 255,
        0, 0, 255, 0,
    ];

    private static readonly float[] ScoresA =
    [
        0.9f, 0.5f, 0, 0,
        0, 0, 0, 0,
        0, 0, 0, 0.7f,
        0, 0, 0.3f, 0.6f,
    ];

    private static readonly float[] ScoresB = [0.5f, 0.2f, 0, 0];

    private static PixelScoreAccumulator HandMade(int chunkLength = 1 << 22)
    {
        var pixels = new PixelScoreAccumulator(chunkLength);
        pixels.Add(ScoresA, MaskA, width: 4, source: "A");
        pixels.AddNormal(ScoresB, "B");
        return pixels;
    }

    [Fact]
    public void CountsPixelsAndEightConnectedRegions()
    {
        var pixels = HandMade();
        Assert.Equal(20, pixels.PixelCount);
        Assert.Equal(4, pixels.AnomalousPixelCount);
        Assert.Equal(16, pixels.NormalPixelCount);
        Assert.Equal(2, pixels.RegionCount);
        Assert.Equal(2, pixels.ImageCount);
    }

    [Fact]
    public void AuproMatchesHandComputedCurve()
    {
        // N = 16 normal pixels (0.6, 0.5, 0.2 and thirteen 0s), R = 2 regions of 2 pixels: {0.9, 0.5}, {0.7, 0.3}.
        // Each region pixel adds 1/(2*2) = 0.25 to PRO, each normal pixel 1/16 to FPR. Points, highest score first:
        //   start (0, 0); 0.9 -> (0, .25); 0.7 -> (0, .5); 0.6 -> (.0625, .5);
        //   0.5 (one normal and one region pixel, taken together) -> (.125, .75); 0.3 -> (.125, 1); 0.2 -> (.1875, 1);
        //   0 -> (1, 1).
        // Trapezoids up to FPR 0.3: .0625*.5 + .0625*(.5+.75)/2 + .0625*1 + (.3-.1875)*1
        //   = .03125 + .0390625 + .0625 + .1125 = .2453125; divided by 0.3 -> 0.817708333...
        Assert.Equal(0.2453125 / 0.3, Aupro.Compute(HandMade()), 12);
    }

    [Fact]
    public void PixelAurocAndF1MatchHandComputedValues()
    {
        // Positives above (ties half) each normal: 0.6 -> 2, 0.5 -> 2.5, 0.2 -> 4, thirteen 0s -> 4 each.
        // (2 + 2.5 + 4 + 52) / (4 * 16) = 60.5 / 64.
        var pixels = HandMade();
        Assert.Equal(60.5 / 64, PixelAuroc.Compute(pixels), 12);
        // F1 = 2TP / (TP + FP + 4): 0.9 -> 2/5, 0.7 -> 4/6, 0.6 -> 4/7, 0.5 -> 6/9, 0.3 -> 8/10, 0.2 -> 8/11.
        var f1 = F1Max.Compute(pixels);
        Assert.Equal(0.8, f1.F1, 12);
        Assert.Equal(0.3f, f1.Threshold);
        Assert.Equal(4.0 / 6, f1.Precision, 12);
        Assert.Equal(1.0, f1.Recall, 12);
    }

    [Fact]
    public void OneSweepGivesTheSameFiguresAsEachMetric()
    {
        var set = PixelMetrics.Compute(HandMade());
        Assert.Equal(60.5 / 64, set.Auroc, 12);
        Assert.Equal(0.2453125 / 0.3, set.Aupro, 12);
        Assert.Equal(0.8, set.F1.F1, 12);
        Assert.Equal(0, set.Roc.FalsePositiveRates[0]);
        Assert.Equal(1, set.Roc.FalsePositiveRates[^1]);
        Assert.Equal(1, set.Roc.TruePositiveRates[^1]);
    }

    [Fact]
    public void AllZeroMasksAreLegalAndGiveNaN()
    {
        var pixels = new PixelScoreAccumulator();
        pixels.Add([0.1f, 0.2f, 0.3f, 0.4f], new byte[4], width: 2);
        pixels.Add([0.5f, 0.6f], new bool[2], width: 2);
        Assert.Equal(0, pixels.RegionCount);
        Assert.Equal(0, pixels.AnomalousPixelCount);
        Assert.True(double.IsNaN(PixelAuroc.Compute(pixels)));
        Assert.True(double.IsNaN(Aupro.Compute(pixels)));
        Assert.True(double.IsNaN(F1Max.Compute(pixels).F1));
        Assert.Equal(0, PixelAuroc.Curve(pixels).Count);
        Assert.True(double.IsNaN(PixelAuroc.Compute(new PixelScoreAccumulator())));
    }

    [Fact]
    public void BadImagesAreRejectedWithTheirName()
    {
        var pixels = new PixelScoreAccumulator();
        var size = Assert.Throws<PatchCoreException>(() => pixels.Add([0.1f, 0.2f], new byte[3], 1, "cat/test/x.png"));
        Assert.Contains("cat/test/x.png", size.Message);
        var rows = Assert.Throws<PatchCoreException>(() => pixels.Add(new float[5], new byte[5], 2, "y.png"));
        Assert.Contains("width 2", rows.Message);
        var nan = Assert.Throws<PatchCoreException>(() => pixels.AddNormal([0.1f, float.NaN], "z.png"));
        Assert.Contains("z.png", nan.Message);
        Assert.Equal(0, pixels.PixelCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => Aupro.Compute(pixels, 0));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(1 << 22)]
    public void ManySortedRunsMergeToTheSameResult(int chunkLength)
    {
        var pixels = HandMade(chunkLength);
        Assert.Equal(60.5 / 64, PixelAuroc.Compute(pixels), 12);
        Assert.Equal(0.2453125 / 0.3, Aupro.Compute(pixels), 12);
        // Adding after a computation (chunks already sorted) must still count the new pixels.
        pixels.AddNormal([1.0f], "late");
        Assert.Equal(60.5 / 68, PixelAuroc.Compute(pixels), 12);
    }

    [Theory]
    [InlineData(21, 5)]
    [InlineData(22, 64)]
    [InlineData(23, 1 << 22)]
    public void RandomMasksMatchNaiveRecount(int seed, int chunkLength)
    {
        var rng = new Random(seed);
        var pixels = new PixelScoreAccumulator(chunkLength);
        var allScores = new List<float>();
        var allRegions = new List<int>();
        int regionCount = 0;
        for (int image = 0; image < 6; image++)
        {
            int w = rng.Next(5, 12), h = rng.Next(5, 12);
            var mask = new byte[w * h];
            if (image % 3 != 0)
                for (int blob = 0; blob < 3; blob++)
                {
                    int x0 = rng.Next(w), y0 = rng.Next(h), bw = rng.Next(1, 4), bh = rng.Next(1, 4);
                    for (int y = y0; y < Math.Min(h, y0 + bh); y++)
                        for (int x = x0; x < Math.Min(w, x0 + bw); x++)
                            mask[y * w + x] = 255;
                }
            var scores = new float[w * h];
            for (int i = 0; i < scores.Length; i++)
                scores[i] = MathF.Round((float)rng.NextDouble() * 20 + (mask[i] != 0 ? 6 : 0)) / 4f;
            pixels.Add(scores, mask, w, $"random {image}");

            var labels = new int[mask.Length];
            var sizes = TestRegions(mask, w, labels);
            allScores.AddRange(scores);
            allRegions.AddRange(labels.Select(l => l == 0 ? 0 : regionCount + l));
            regionCount += sizes;
        }
        float[] s = [.. allScores];
        bool[] l = allRegions.Select(r => r != 0).ToArray();
        Assert.Equal(regionCount, pixels.RegionCount);
        var set = PixelMetrics.Compute(pixels);
        Assert.Equal(ReferenceMetrics.PairwiseAuroc(s, l), set.Auroc, 10);
        Assert.Equal(ImageAuroc.Compute(s, l), set.Auroc, 12);
        Assert.Equal(ReferenceMetrics.BruteF1Max(s, l).F1, set.F1.F1, 12);
        Assert.Equal(ReferenceMetrics.BruteAupro(s, [.. allRegions], regionCount, 0.3), set.Aupro, 10);
        Assert.Equal(ReferenceMetrics.BruteAupro(s, [.. allRegions], regionCount, 1.0), Aupro.Compute(pixels, 1.0), 10);
    }

    [Fact]
    public void PixelCurveIsDownsampledButKeepsItsEnds()
    {
        var rng = new Random(5);
        var pixels = new PixelScoreAccumulator(1000);
        for (int image = 0; image < 10; image++)
        {
            var scores = new float[100 * 100];
            var mask = new byte[scores.Length];
            for (int i = 0; i < scores.Length; i++)
            {
                mask[i] = (byte)(i % 100 < 10 ? 1 : 0);
                scores[i] = (float)rng.NextDouble() + mask[i] * 0.5f;
            }
            pixels.Add(scores, mask, 100);
        }
        var full = PixelAuroc.Curve(pixels, maxPoints: 0);
        var small = PixelAuroc.Curve(pixels, maxPoints: 200);
        Assert.True(full.Count > 50_000, $"full curve has {full.Count} points");
        Assert.InRange(small.Count, 50, 202);
        Assert.Equal((0.0, 0.0), (small.FalsePositiveRates[0], small.TruePositiveRates[0]));
        Assert.Equal((1.0, 1.0), (small.FalsePositiveRates[^1], small.TruePositiveRates[^1]));
        // Monotone and never further than one step from the full curve's area.
        for (int i = 1; i < small.Count; i++)
            Assert.True(small.FalsePositiveRates[i] >= small.FalsePositiveRates[i - 1] && small.TruePositiveRates[i] >= small.TruePositiveRates[i - 1]);
        Assert.Equal(Area(full), Area(small), 2);
        Assert.Equal(PixelAuroc.Compute(pixels), Area(full), 9);
    }

    [Fact]
    public void LabellerJoinsDiagonalsAndCountsSizes()
    {
        byte[] mask =
        [
            1, 0, 0, 0, 1,
            0, 1, 0, 0, 1,
            0, 0, 0, 0, 0,
            1, 1, 0, 1, 0,
            0, 1, 1, 1, 0,
        ];
        var labels = new int[mask.Length];
        var sizes = PatchCore.Core.Imaging.ConnectedComponents.Label(mask, 5, labels);
        // Regions in row-major order of first pixel: {(0,0),(1,1)}, {(0,4),(1,4)}, the U shape (6 pixels).
        Assert.Equal([2, 2, 6], sizes);
        Assert.Equal(labels[0], labels[6]);
        Assert.Equal(labels[15], labels[18]); // both arms of the U, joined along the bottom row
        Assert.Equal(0, labels[2]);
    }

    private static double Area(RocCurve c)
    {
        double area = 0;
        for (int i = 1; i < c.Count; i++)
            area += (c.FalsePositiveRates[i] - c.FalsePositiveRates[i - 1]) * (c.TruePositiveRates[i] + c.TruePositiveRates[i - 1]) / 2;
        return area;
    }

    /// <summary>Independent 8-connected labelling for the random test: repeated min-label propagation until stable.</summary>
    private static int TestRegions(byte[] mask, int w, int[] labels)
    {
        int h = mask.Length / w;
        for (int i = 0; i < mask.Length; i++) labels[i] = mask[i] != 0 ? i + 1 : 0;
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int p = y * w + x;
                    if (labels[p] == 0) continue;
                    for (int dy = -1; dy <= 1; dy++)
                        for (int dx = -1; dx <= 1; dx++)
                        {
                            int ny = y + dy, nx = x + dx;
                            if (ny < 0 || ny >= h || nx < 0 || nx >= w) continue;
                            int q = ny * w + nx;
                            if (labels[q] != 0 && labels[q] < labels[p]) { labels[p] = labels[q]; changed = true; }
                        }
                }
        }
        var distinct = labels.Where(v => v != 0).Distinct().OrderBy(v => v).ToList();
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] != 0) labels[i] = distinct.IndexOf(labels[i]) + 1;
        return distinct.Count;
    }
}
