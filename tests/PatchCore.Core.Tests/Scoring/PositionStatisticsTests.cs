using PatchCore.Core.Scoring;
using Xunit;

namespace PatchCore.Core.Tests.Scoring;

/// <summary>The maths of the image score by position (<see cref="PositionStatistics"/>) on synthetic maps.</summary>
public class PositionStatisticsTests
{
    private const int W = 64, H = 32;

    /// <summary>A good map: noise around 10, and a bright band along the top edge as every good part shows.</summary>
    private static float[] GoodMap(Random rng, float edge = 6f)
    {
        var map = new float[W * H];
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                map[y * W + x] = 10f + (float)rng.NextDouble() + (y < 4 ? edge : 0f);
        return map;
    }

    private static void AddSpot(float[] map, int cx, int cy, float height)
    {
        for (int y = cy - 2; y <= cy + 2; y++)
            for (int x = cx - 2; x <= cx + 2; x++)
                map[y * W + x] += height;
    }

    private static PositionStatistics FitGood(int n, int seed = 1)
    {
        var rng = new Random(seed);
        var pooled = Enumerable.Range(0, n).Select(_ => PositionStatistics.Pool(GoodMap(rng), W, H, null)).ToArray();
        return PositionStatistics.Fit(pooled, W, H);
    }

    [Fact]
    public void ASpotWhereGoodPartsAreCalmOutscoresTheBrightEdgeEveryGoodPartHas()
    {
        var stats = FitGood(12);
        var rng = new Random(99);
        var good = GoodMap(rng);
        var spot = GoodMap(rng);
        AddSpot(spot, 40, 20, 3f); // lower than the edge band (16) but where good parts read about 10.5
        // the highest value decides nothing here: both maps peak on the edge band
        Assert.True(good.Max() > spot.Skip(8 * W).Max());
        double goodScore = stats.Score(good, W, H), spotScore = stats.Score(spot, W, H);
        Assert.True(spotScore > 2 * goodScore, $"spot {spotScore:0.00}, good {goodScore:0.00}");
        Assert.True(goodScore < 4, $"a good map scores {goodScore:0.00} standard deviations");
    }

    [Fact]
    public void PoolingAveragesCellsWithPartialEdgeCellsAndLeavesUninspectedCellsOut()
    {
        // 6 x 5 map, cells of 4: a 2 x 2 grid whose right and bottom cells are partial
        var map = Enumerable.Range(0, 30).Select(i => (float)i).ToArray();
        var pooled = PositionStatistics.Pool(map, 6, 5, null, cell: 4);
        Assert.Equal(4, pooled.Length);
        Assert.Equal(new[] { 0f, 1, 2, 3, 6, 7, 8, 9, 12, 13, 14, 15, 18, 19, 20, 21 }.Average(), pooled[0], 4);
        Assert.Equal(new[] { 4f, 5, 10, 11, 16, 17, 22, 23 }.Average(), pooled[1], 4);
        Assert.Equal(new[] { 24f, 25, 26, 27 }.Average(), pooled[2], 4);
        Assert.Equal(new[] { 28f, 29 }.Average(), pooled[3], 4);

        var inspected = new bool[30];
        for (int y = 0; y < 5; y++) for (int x = 0; x < 4; x++) inspected[y * 6 + x] = true; // the left 4 columns
        var masked = PositionStatistics.Pool(map, 6, 5, inspected, cell: 4);
        Assert.True(float.IsNaN(masked[1]) && float.IsNaN(masked[3]));
        Assert.Equal(pooled[0], masked[0], 4);
    }

    [Fact]
    public void UninspectedCellsNeverDecideTheScore()
    {
        var stats = FitGood(10);
        var map = GoodMap(new Random(5));
        AddSpot(map, 50, 20, 40f);
        var inspected = Enumerable.Range(0, W * H).Select(i => i % W < 32).ToArray(); // the left half only
        Assert.True(stats.Score(map, W, H) > 20);
        Assert.True(stats.Score(map, W, H, inspected) < 5);
    }

    [Fact]
    public void TheDeviationIsFlooredAtHalfItsMedian()
    {
        var rng = new Random(3);
        // identical maps except in one corner: zero deviation nearly everywhere
        var maps = Enumerable.Range(0, 8).Select(i =>
        {
            var m = new float[W * H];
            Array.Fill(m, 10f);
            for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) m[y * W + x] += (float)rng.NextDouble() * 4;
            return PositionStatistics.Pool(m, W, H, null);
        }).ToArray();
        var stats = PositionStatistics.Fit(maps, W, H);
        float min = stats.Deviation.Min();
        var sorted = stats.Deviation.Order().ToArray();
        Assert.True(min > 0);
        Assert.True(min >= PositionStatistics.FloorShare * sorted[sorted.Length / 2] * 0.999f);
        Assert.True(stats.Deviation[0] > 10 * min, "the varying corner keeps its own, larger deviation");
    }

    [Fact]
    public void LeaveOneOutScoresAnOddGoodMapAgainstTheOthersOnly()
    {
        var rng = new Random(11);
        var maps = Enumerable.Range(0, 10).Select(_ => GoodMap(rng)).ToArray();
        AddSpot(maps[4], 30, 16, 5f); // one good part with a mark the others lack
        var pooled = maps.Select(m => PositionStatistics.Pool(m, W, H, null)).ToArray();
        double[] loo = PositionStatistics.LeaveOneOutScores(pooled, W, H);
        double inSample = PositionStatistics.Fit(pooled, W, H).ScorePooled(pooled[4]);
        double expected = PositionStatistics.Fit(pooled.Where((_, j) => j != 4).ToArray(), W, H).ScorePooled(pooled[4]);
        Assert.Equal(expected, loo[4], 9);
        Assert.True(loo[4] > inSample, $"out of sample {loo[4]:0.00} should exceed in sample {inSample:0.00}: its own mark widens the deviation it is measured by");
        Assert.Equal(loo.Max(), loo[4]);
    }

    [Fact]
    public void AMapOfAnotherSizeIsRefusedNamingBothSizes()
    {
        var stats = FitGood(8);
        var ex = Assert.Throws<PatchCoreException>(() => stats.Score(new float[32 * 32], 32, 32));
        Assert.Contains("64x32", ex.Message);
        Assert.Contains("32x32", ex.Message);
    }

    [Fact]
    public void CellsNoImageMeasuredDoNotShrinkTheirNeighboursDeviation()
    {
        var rng = new Random(21);
        var inspected = Enumerable.Range(0, W * H).Select(i => i % W < 32).ToArray(); // the left half only
        var pooled = Enumerable.Range(0, 10).Select(_ =>
        {
            var m = GoodMap(rng, edge: 0);
            for (int i = 0; i < m.Length; i++) if (!inspected[i]) m[i] = 0; // as the detector leaves ignored pixels
            return PositionStatistics.Pool(m, W, H, inspected);
        }).ToArray();
        var stats = PositionStatistics.Fit(pooled, W, H);
        int gw = stats.GridWidth;
        // along the region's edge (grid column 7) the deviation matches the middle of the region (column 3)
        for (int row = 0; row < stats.GridHeight; row++)
            Assert.InRange(stats.Deviation[row * gw + 7] / stats.Deviation[row * gw + 3], 0.75, 1.35);
        Assert.Null(stats.Problem());
    }

    [Fact]
    public void StatisticsThatDoNotFitTheirMapSizeAreNamedAsTheProblem()
    {
        var stats = FitGood(8);
        Assert.Null(stats.Problem());
        Assert.Contains("needs 128 of each", (stats with { Mean = new float[5] }).Problem());
        Assert.Contains("not positive", (stats with { Deviation = stats.Deviation.Select((d, i) => i == 3 ? 0f : d).ToArray() }).Problem());
    }
}
