using PatchCore.Core.Sampling;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Core.Tests.Sampling;

public class CoresetSamplerTests(ITestOutputHelper output)
{
    [Fact]
    public void SelectsExactlyTheRequestedCountWithoutDuplicates()
    {
        const int dim = 48;
        var rows = SyntheticEmbeddings.Blobs(3000, dim, clusters: 6, spread: 2f, noise: 0.5f, seed: 1);
        using var store = SyntheticEmbeddings.Store(rows, dim, new CoresetOptions());

        var byFraction = CoresetSampler.Select(store, new CoresetOptions(Fraction: 0.1)).Indices;
        Assert.Equal(300, byFraction.Length);
        Assert.Equal(300, byFraction.Distinct().Count());
        Assert.All(byFraction, i => Assert.InRange(i, 0, 2999));

        var byCount = CoresetSampler.Select(store, new CoresetOptions(Fraction: 0.5, Count: 77)).Indices;
        Assert.Equal(77, byCount.Length);
        Assert.Equal(77, byCount.Distinct().Count());

        var all = CoresetSampler.Select(store, new CoresetOptions(Count: 5000)).Indices;
        Assert.Equal(Enumerable.Range(0, 3000).Select(i => (long)i), all.Order());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(9)]
    public void TinyStoresWithFewerRowsThanStartPointsWork(int n)
    {
        const int dim = 16;
        var rows = SyntheticEmbeddings.Blobs(n, dim, clusters: 2, spread: 1f, noise: 1f, seed: n);
        using var store = SyntheticEmbeddings.Store(rows, dim, new CoresetOptions());
        var options = new CoresetOptions(Count: n);
        var fast = CoresetSampler.Select(store, options).Indices;
        Assert.Equal(Enumerable.Range(0, n).Select(i => (long)i), fast.Order());
        Assert.Equal(CoresetSampler.SelectPlain(store, options).Indices, fast);
        Assert.Equal(fast, CoresetSampler.SelectOnDevice(store, options, torch.CPU).Indices);
        Assert.Single(CoresetSampler.Select(store, new CoresetOptions(Fraction: 0.01)).Indices);
    }

    [Fact]
    public void DuplicateRowsAreNeverSelectedTwice()
    {
        const int dim = 32, distinct = 400;
        var unique = SyntheticEmbeddings.Blobs(distinct, dim, clusters: 4, spread: 2f, noise: 0.5f, seed: 2);
        var rows = new float[3 * distinct * dim];
        for (int copy = 0; copy < 3; copy++)
            unique.CopyTo(rows, copy * unique.Length);
        using var store = SyntheticEmbeddings.Store(rows, dim, new CoresetOptions());
        var options = new CoresetOptions(Count: 1000); // more than the distinct rows
        var fast = CoresetSampler.Select(store, options).Indices;
        Assert.Equal(1000, fast.Distinct().Count());
        // Every distinct row is covered before any copy of a covered row is taken.
        Assert.Equal(distinct, fast.Take(distinct).Select(i => i % distinct).Distinct().Count());
        Assert.Equal(CoresetSampler.SelectPlain(store, options).Indices, fast);
    }

    [Fact]
    public void SameSeedGivesTheSameSelectionAndAnotherSeedAnother()
    {
        const int dim = 64;
        var rows = SyntheticEmbeddings.Blobs(4000, dim, clusters: 8, spread: 2f, noise: 1f, seed: 3);
        var seed7 = new CoresetOptions(Fraction: 0.05, Seed: 7);
        using var first = SyntheticEmbeddings.Store(rows, dim, seed7, batchRows: 500);
        using var second = SyntheticEmbeddings.Store(rows, dim, seed7, batchRows: 1234);
        var a = CoresetSampler.Select(first, seed7).Indices;
        var b = CoresetSampler.Select(second, seed7).Indices;
        Assert.Equal(a, b);

        var seed8 = seed7 with { Seed = 8 };
        using var third = SyntheticEmbeddings.Store(rows, dim, seed8);
        var c = CoresetSampler.Select(third, seed8).Indices;
        Assert.NotEqual(a, c);
    }

    public static TheoryData<string, int, int> SyntheticSets => new()
    {
        { "blobs", 64, 12 },
        { "blobs", 256, 40 },
        { "blobs", 1024, 25 },
        { "blobs", 512, 1 },     // one isotropic blob: almost nothing can be pruned
        { "lowrank", 384, 20 },
    };

    [Theory]
    [MemberData(nameof(SyntheticSets))]
    public void FastPathSelectsExactlyWhatThePlainLoopSelects(string kind, int dim, int clusters)
    {
        const int n = 20_000;
        var rows = kind == "lowrank"
            ? SyntheticEmbeddings.LowRankClusters(n, dim, clusters, rank: 8, seed: dim)
            : SyntheticEmbeddings.Blobs(n, dim, clusters, spread: 1f, noise: 0.25f, seed: dim);
        var options = new CoresetOptions(Seed: clusters);
        using var store = SyntheticEmbeddings.Store(rows, dim, options, batchRows: 2048);
        var plain = CoresetSampler.SelectPlain(store, options).Indices;
        var fast = CoresetSampler.Select(store, options).Indices;
        Assert.Equal(2000, plain.Length);
        int firstDifference = FirstDifference(fast, plain);
        output.WriteLine($"{kind} D={dim} clusters={clusters}: first difference at {firstDifference} (-1: none)");
        Assert.Equal(plain, fast);
    }

    [Fact]
    public void TorchLoopOnTheCpuMatchesThePlainLoopUpToFloatTies()
    {
        const int dim = 128, n = 4000;
        var rows = SyntheticEmbeddings.Blobs(n, dim, clusters: 10, spread: 1f, noise: 0.3f, seed: 4);
        var options = new CoresetOptions(Count: 300);
        using var store = SyntheticEmbeddings.Store(rows, dim, options);
        var plain = CoresetSampler.SelectPlain(store, options).Indices;
        var onDevice = CoresetSampler.SelectOnDevice(store, options, torch.CPU).Indices;
        int t = FirstDifference(onDevice, plain);
        output.WriteLine($"torch CPU vs plain: first difference at {t} (-1: none)");
        if (t >= 0)
        {
            // Where they part, the two picks must tie to float rounding in the plain loop's state at that step.
            var m = ReplayMinDistances(store, options, plain.AsSpan(0, t));
            float a = m[plain[t]], b = m[onDevice[t]];
            Assert.True(Math.Abs(a - b) <= 1e-5f * Math.Max(a, b), $"step {t}: plain picks {plain[t]} (m={a}), torch {onDevice[t]} (m={b})");
        }
        Assert.Equal(plain.Length, onDevice.Distinct().Count());
    }

    [Fact]
    public void CoverageRadiusIsWithinTwiceTheExactFullDimensionalGreedy()
    {
        const int dim = 256, n = 1500, count = 75;
        var rows = SyntheticEmbeddings.Blobs(n, dim, clusters: 15, spread: 1f, noise: 0.4f, seed: 6);
        var options = new CoresetOptions(Count: count);
        using var store = SyntheticEmbeddings.Store(rows, dim, options);
        var full = store.ReadRows(Enumerable.Range(0, n).Select(i => (long)i).ToArray());

        var selected = CoresetSampler.Select(store, options).Indices;
        double radius = CoresetSampler.CoverageRadius(store, selected);
        double bruteForce = BruteForceRadius(full, dim, selected);
        Assert.True(Math.Abs(radius - bruteForce) <= 1e-3 * bruteForce, $"chunked {radius} vs brute force {bruteForce}");

        var exactGreedy = ExactGreedy(full, dim, count, first: selected[0]);
        double exactRadius = BruteForceRadius(full, dim, exactGreedy);
        output.WriteLine($"coverage radius: projected greedy {radius:F4}, full-dimensional greedy {exactRadius:F4}");
        Assert.True(radius <= 2 * exactRadius, $"projected greedy radius {radius} vs exact {exactRadius}");
    }

    [Fact]
    public void ReportsProgressToOneAndHonoursCancellation()
    {
        const int dim = 32;
        var rows = SyntheticEmbeddings.Blobs(5000, dim, clusters: 5, spread: 2f, noise: 0.5f, seed: 8);
        var options = new CoresetOptions(Count: 1000);
        using var store = SyntheticEmbeddings.Store(rows, dim, options);
        var reports = new List<double>();
        CoresetSampler.Select(store, options, new SynchronousProgress(reports.Add));
        Assert.InRange(reports.Count, 90, 110);
        Assert.Equal(reports.Order(), reports);
        Assert.Equal(1.0, reports[^1]);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => CoresetSampler.Select(store, options, ct: cancelled.Token).Indices);
        Assert.ThrowsAny<OperationCanceledException>(() => CoresetSampler.SelectPlain(store, options, ct: cancelled.Token).Indices);
    }

    [Fact]
    public void InvalidOptionsAndStoresAreRejectedClearly()
    {
        using var store = new CandidateStore(16);
        Assert.Contains("empty", Assert.Throws<PatchCoreException>(() => CoresetSampler.Select(store, new CoresetOptions()).Indices).Message);
        store.Append(new float[16 * 20]);

        foreach (double fraction in new[] { 0, -0.1, 1.5, double.NaN })
            Assert.Contains("fraction", Assert.Throws<ArgumentOutOfRangeException>(() => CoresetSampler.Select(store, new CoresetOptions(Fraction: fraction)).Indices).Message);
        Assert.Contains("count", Assert.Throws<ArgumentOutOfRangeException>(() => CoresetSampler.Select(store, new CoresetOptions(Count: 0)).Indices).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CoresetOptions(StartPoints: 0).Validate());
        var mismatch = Assert.Throws<PatchCoreException>(() => CoresetSampler.Select(store, new CoresetOptions(Seed: 1)).Indices);
        Assert.Contains("seed", mismatch.Message);
    }

    [Theory]
    [InlineData(163_856, 0.1, 16_385)]
    [InlineData(70, 0.1, 7)]
    [InlineData(10, 0.7, 7)]
    [InlineData(5, 0.1, 1)]
    [InlineData(12, 1.0, 12)]
    public void CountIsTheFlooredFractionClampedToAtLeastOne(long n, double fraction, int expected) =>
        Assert.Equal(expected, new CoresetOptions(Fraction: fraction).ResolveCount(n));

    [Theory]
    [InlineData(128)]
    [InlineData(64)]
    [InlineData(96)]
    [InlineData(130)]
    public void FourWayDistanceKernelMatchesTheSingleKernelBitForBit(int dim)
    {
        var random = new Random(dim);
        var x = SyntheticEmbeddings.Gaussian(dim, 3f, random);
        var c = SyntheticEmbeddings.Gaussian(4 * dim, 3f, random);
        ProjectedDistance.Distance4(ref x[0], ref c[0], ref c[dim], ref c[2 * dim], ref c[3 * dim], dim, out float d0, out float d1, out float d2, out float d3);
        float[] four = [d0, d1, d2, d3];
        for (int j = 0; j < 4; j++)
        {
            var row = c.AsSpan(j * dim, dim);
            Assert.Equal(ProjectedDistance.Distance(x, row), four[j]);
            Assert.Equal(ProjectedDistance.Distance(row, x), four[j]);
            double exact = 0;
            for (int k = 0; k < dim; k++) exact += Math.Pow(x[k] - (double)row[k], 2);
            exact = Math.Sqrt(exact);
            Assert.True(Math.Abs(four[j] - exact) <= 1e-5 * exact);
        }
    }

    private static int FirstDifference(long[] a, long[] b)
    {
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
            if (a[i] != b[i]) return i;
        return a.Length == b.Length ? -1 : Math.Min(a.Length, b.Length);
    }

    /// <summary>The plain loop's m after the given selections (start from the seeded mean distances).</summary>
    private static float[] ReplayMinDistances(CandidateStore store, CoresetOptions options, ReadOnlySpan<long> selected)
    {
        int n = (int)store.Count, p = store.ProjectionDim;
        var y = new float[n * p];
        store.ReadProjected(0, y);
        var starts = GreedyStart.PickStartPoints(n, options.StartPoints, options.Seed);
        var startRows = starts.SelectMany(s => y.AsSpan(s * p, p).ToArray()).ToArray();
        var m = new float[n];
        for (int i = 0; i < n; i++) m[i] = GreedyStart.InitialDistance(y.AsSpan(i * p, p), startRows, p);
        foreach (long s in selected)
        {
            for (int i = 0; i < n; i++)
                m[i] = Math.Min(m[i], ProjectedDistance.Distance(y.AsSpan(i * p, p), y.AsSpan((int)s * p, p)));
            m[s] = -1;
        }
        return m;
    }

    /// <summary>Greedy farthest-point selection on the full rows (double precision), from the given first point.</summary>
    private static long[] ExactGreedy(float[] rows, int dim, int count, long first)
    {
        int n = rows.Length / dim;
        var m = Enumerable.Repeat(double.MaxValue, n).ToArray();
        var selected = new long[count];
        long s = first;
        for (int t = 0; t < count; t++)
        {
            selected[t] = s;
            for (int i = 0; i < n; i++)
                m[i] = Math.Min(m[i], FullDistance(rows, dim, i, s));
            s = Array.IndexOf(m, m.Max());
        }
        return selected;
    }

    private static double BruteForceRadius(float[] rows, int dim, long[] selected)
    {
        int n = rows.Length / dim;
        double radius = 0;
        for (int i = 0; i < n; i++)
            radius = Math.Max(radius, selected.Min(s => FullDistance(rows, dim, i, s)));
        return radius;
    }

    private static double FullDistance(float[] rows, int dim, long a, long b)
    {
        double sum = 0;
        for (int k = 0; k < dim; k++)
        {
            double d = rows[a * dim + k] - (double)rows[b * dim + k];
            sum += d * d;
        }
        return Math.Sqrt(sum);
    }

    private sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
