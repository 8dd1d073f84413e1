using PatchCore.Core.Sampling;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Core.Tests.Sampling;

/// <summary>
/// The two-stage coreset (a greedy pass per block of candidates, then the exact greedy on the survivors) and the
/// switch between it and the exact greedy.
/// </summary>
public sealed class TwoStageCoresetTests(ITestOutputHelper output)
{
    private const int Dim = 48;

    /// <summary>Two-stage with first-pass blocks of 1,000 rows: small sets still have several blocks.</summary>
    private static CoresetOptions TwoStage(double fraction = 0.02, int? count = null, int seed = 0) =>
        new CoresetOptions(fraction, count, Seed: seed) { Method = CoresetMethod.TwoStage, FirstPassRows = 1000 };

    [Theory]
    [InlineData(5000, 0.02, null)]   // a whole number of blocks
    [InlineData(5437, 0.02, null)]   // a short last block
    [InlineData(5437, 0.5, 2000)]    // the count overrides the share
    [InlineData(999, 0.1, null)]     // fewer rows than one block
    [InlineData(5437, 0.4, null)]    // 4 x the share keeps every row: the second stage is the exact greedy
    public void SelectsTheRequestedCountOfDistinctValidRows(int n, double fraction, int? count)
    {
        var rows = SyntheticEmbeddings.Blobs(n, Dim, clusters: 10, spread: 2f, noise: 0.5f, seed: n);
        var options = TwoStage(fraction, count);
        using var store = SyntheticEmbeddings.Store(rows, Dim, options);
        var selection = CoresetSampler.Select(store, options);
        int expected = options.ResolveCount(n);
        Assert.Equal(expected, selection.Indices.Length);
        Assert.Equal(expected, selection.Indices.Distinct().Count());
        Assert.All(selection.Indices, i => Assert.InRange(i, 0, n - 1));
    }

    [Fact]
    public void TheSameSeedGivesTheSameSelectionAndAnotherSeedAnother()
    {
        var rows = SyntheticEmbeddings.Blobs(4321, Dim, clusters: 8, spread: 2f, noise: 1f, seed: 3);
        var seed7 = TwoStage(seed: 7);
        using var first = SyntheticEmbeddings.Store(rows, Dim, seed7, batchRows: 500);
        using var second = SyntheticEmbeddings.Store(rows, Dim, seed7, batchRows: 1234, new CandidateStoreOptions { ChunkRows = 300, ProjectionMemoryBytes = 0 });
        var a = CoresetSampler.Select(first, seed7);
        var b = CoresetSampler.Select(second, seed7);
        Assert.Equal(a.Indices, b.Indices);
        Assert.Equal(a.CoverageRadius, b.CoverageRadius);

        var seed8 = seed7 with { Seed = 8 };
        using var third = SyntheticEmbeddings.Store(rows, Dim, seed8);
        Assert.NotEqual(a.Indices, CoresetSampler.Select(third, seed8).Indices);
    }

    [Fact]
    public void OutliersInTheLastRowsOfAnUnevenSetAreSelected()
    {
        // 3,007 rows in blocks of at most 1,000: four even blocks, not three and a block of 7 that would keep one row.
        // The last 7 rows lie far from everything else and from each other, so any greedy k-center must take them.
        const int n = 3007;
        var rows = SyntheticEmbeddings.Blobs(n, Dim, clusters: 6, spread: 1f, noise: 0.3f, seed: 9);
        for (int i = n - 7; i < n; i++)
            rows[i * Dim + i % Dim] += 200f + 30f * (i - (n - 7));
        var options = TwoStage(count: 40);
        using var store = SyntheticEmbeddings.Store(rows, Dim, options);
        var selection = CoresetSampler.Select(store, options);
        Assert.Equal(40, selection.Indices.Length);
        Assert.All(Enumerable.Range(n - 7, 7), i => Assert.Contains((long)i, selection.Indices));
    }

    [Theory]
    [InlineData(12, 0.01)]
    [InlineData(40, 0.03)]
    public void TheCoverageRadiusIsABoundAndCloseToTheExactGreedys(int clusters, double fraction)
    {
        const int n = 12_000;
        var rows = SyntheticEmbeddings.LowRankClusters(n, Dim, clusters, rank: 6, seed: clusters);
        var twoStage = TwoStage(fraction) with { FirstPassRows = 2500 };
        var exact = twoStage with { Method = CoresetMethod.Exact };
        using var store = SyntheticEmbeddings.Store(rows, Dim, twoStage);
        var a = CoresetSampler.Select(store, twoStage);
        var e = CoresetSampler.Select(store, exact);
        Assert.Equal(e.Indices.Length, a.Indices.Length);
        Assert.NotEqual(e.Indices, a.Indices);

        // The reported radius bounds every candidate's projected distance to the selection.
        var y = new float[n * store.ProjectionDim];
        store.ReadProjected(0, y);
        var centres = new float[a.Indices.Length * store.ProjectionDim];
        for (int j = 0; j < a.Indices.Length; j++)
            y.AsSpan((int)a.Indices[j] * store.ProjectionDim, store.ProjectionDim).CopyTo(centres.AsSpan(j * store.ProjectionDim));
        float projectedCoverage = GreedyStart.NearestDistancesBruteForce(y, n, store.ProjectionDim, centres).Max();
        Assert.NotNull(a.CoverageRadius);
        Assert.True(projectedCoverage <= a.CoverageRadius!.Value * (1 + 1e-5f), $"coverage {projectedCoverage} exceeds the bound {a.CoverageRadius}");

        // In the full space the two-stage radius stays within 1.25 x the exact greedy's (a greedy k-center is itself
        // within 2 x the optimum, so the factor is what the first pass costs).
        double exactRadius = CoresetSampler.CoverageRadius(store, e.Indices);
        double twoStageRadius = CoresetSampler.CoverageRadius(store, a.Indices);
        output.WriteLine($"{clusters} clusters, {a.Indices.Length} of {n}: radius two-stage {twoStageRadius:F4}, exact {exactRadius:F4}, ratio {twoStageRadius / exactRadius:F4}; projected bound {a.CoverageRadius:F4}, attained {projectedCoverage:F4}");
        Assert.InRange(twoStageRadius / exactRadius, 0.8, 1.25);
    }

    [Fact]
    public void AutoSwitchesToTwoStageAboveTheThresholdAndIsTheExactGreedyUpToIt()
    {
        var options = new CoresetOptions(Fraction: 0.05) { TwoStageAbove = 3000, FirstPassRows = 1000 };
        Assert.Equal(CoresetMethod.Exact, options.ResolveMethod(3000));
        Assert.Equal(CoresetMethod.TwoStage, options.ResolveMethod(3001));
        Assert.Equal(CoresetMethod.Exact, (options with { Method = CoresetMethod.Exact }).ResolveMethod(10_000_000));
        Assert.Equal(CoresetMethod.TwoStage, (options with { Method = CoresetMethod.TwoStage }).ResolveMethod(1));
        Assert.Equal(CoresetMethod.Exact, new CoresetOptions().ResolveMethod(1_000_000));
        Assert.Equal(CoresetMethod.TwoStage, new CoresetOptions().ResolveMethod(1_000_001));

        var rows = SyntheticEmbeddings.Blobs(3001, Dim, clusters: 12, spread: 2f, noise: 0.5f, seed: 4);
        using var atThreshold = SyntheticEmbeddings.Store(rows.AsSpan(0, 3000 * Dim).ToArray(), Dim, options);
        Assert.Equal(CoresetSampler.SelectPlain(atThreshold, options).Indices, CoresetSampler.Select(atThreshold, options).Indices);

        using var above = SyntheticEmbeddings.Store(rows, Dim, options);
        var auto = CoresetSampler.Select(above, options).Indices;
        Assert.Equal(CoresetSampler.Select(above, options with { Method = CoresetMethod.TwoStage }).Indices, auto);
        Assert.NotEqual(CoresetSampler.SelectPlain(above, options).Indices, auto);
    }

    [DataFact("bottle")]
    public void TheBankRecordsTheMethodThatRan()
    {
        var images = TestData.Images("bottle", "train/good").Take(4).ToArray();
        var model = new ModelOptions { Geometry = PatchCore.Core.Imaging.ImageGeometry.Default };
        var options = new BuildOptions(images, "(in memory)") { Model = model, CoresetFraction = 0.1, HoldOutFraction = 0 };
        using var pipeline = new PatchCore.Core.Embedding.FeaturePipeline(model);

        var auto = PatchCoreBankBuilder.Fit(pipeline, images, options);
        var twoStage = PatchCoreBankBuilder.Fit(pipeline, images, options with { CoresetMethod = CoresetMethod.TwoStage });
        Assert.Equal(CoresetMethod.Exact, auto.CoresetSettings.Method); // 3,136 candidates: far below the threshold
        Assert.Equal(CoresetMethod.TwoStage, twoStage.CoresetSettings.Method);
        Assert.Equal(auto.VectorCount, twoStage.VectorCount);
        Assert.NotNull(twoStage.CoresetSettings.CoverageRadius);
        Assert.Throws<PatchCoreException>(() => (options with { CoresetMethod = (CoresetMethod)9 }).Validate());
    }

    [Fact]
    public void BadTwoStageSettingsAreRejectedByName()
    {
        Assert.Equal("FirstPassRows", Assert.Throws<ArgumentOutOfRangeException>(() => new CoresetOptions { FirstPassRows = 0 }.Validate()).ParamName);
        Assert.Equal("FirstPassFactor", Assert.Throws<ArgumentOutOfRangeException>(() => new CoresetOptions { FirstPassFactor = 0.5 }.Validate()).ParamName);
        Assert.Equal("TwoStageAbove", Assert.Throws<ArgumentOutOfRangeException>(() => new CoresetOptions { TwoStageAbove = -1 }.Validate()).ParamName);
        Assert.Equal("Method", Assert.Throws<ArgumentOutOfRangeException>(() => new CoresetOptions { Method = (CoresetMethod)7 }.Validate()).ParamName);
    }
}
