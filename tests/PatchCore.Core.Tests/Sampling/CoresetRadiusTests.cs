using PatchCore.Core.Sampling;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Core.Tests.Sampling;

/// <summary>
/// The greedy's coverage radius (the three loops agree and it is the true coverage) and the extension of a bank's
/// coreset over new candidates (the blocked loop equals the plain loop continued from the bank, and the stop rule holds).
/// </summary>
public sealed class CoresetRadiusTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(6, 300)]
    [InlineData(12, 1000)]
    public void TheThreeLoopsReportTheSameRadiusAndItIsTheTrueProjectedCoverage(int clusters, int count)
    {
        const int dim = 96, n = 6000;
        var rows = SyntheticEmbeddings.Blobs(n, dim, clusters, spread: 1f, noise: 0.3f, seed: clusters);
        var options = new CoresetOptions(Count: count, Seed: clusters);
        using var store = SyntheticEmbeddings.Store(rows, dim, options);
        var plain = CoresetSampler.SelectPlain(store, options);
        var fast = CoresetSampler.Select(store, options);
        var torchLoop = CoresetSampler.SelectOnDevice(store, options, torch.CPU);
        output.WriteLine($"radius: plain {plain.CoverageRadius}, blocked {fast.CoverageRadius}, torch {torchLoop.CoverageRadius}");

        Assert.Equal(plain.Indices, fast.Indices);
        Assert.NotNull(plain.CoverageRadius);
        Assert.Equal(plain.CoverageRadius, fast.CoverageRadius);
        Assert.Equal(plain.LargestRemaining, fast.LargestRemaining);
        Assert.NotNull(torchLoop.CoverageRadius);
        Assert.Equal(plain.CoverageRadius!.Value, torchLoop.CoverageRadius!.Value, plain.CoverageRadius.Value * 1e-5);

        var y = Projected(store);
        float bruteForce = LargestNearest(y, dim: store.ProjectionDim, centres: Gather(y, store.ProjectionDim, plain.Indices));
        Assert.Equal(bruteForce, plain.CoverageRadius!.Value);
    }

    [Fact]
    public void ATinyCoresetHasNoRadiusAndAFullOneHasZero()
    {
        const int dim = 32;
        // two far-apart clusters: one centre leaves the other cluster at its start values, which bound nothing
        var rows = SyntheticEmbeddings.Blobs(2000, dim, clusters: 2, spread: 50f, noise: 0.5f, seed: 5);
        using var store = SyntheticEmbeddings.Store(rows, dim, new CoresetOptions());
        var one = CoresetSampler.Select(store, new CoresetOptions(Count: 1));
        Assert.Null(one.CoverageRadius);
        Assert.Null(CoresetSampler.SelectPlain(store, new CoresetOptions(Count: 1)).CoverageRadius);
        var all = CoresetSampler.Select(store, new CoresetOptions(Count: 2000));
        Assert.Equal(0f, all.CoverageRadius);
    }

    public static TheoryData<int, int, int> Extensions => new()
    {
        { 256, 12, 1500 },
        { 128, 4, 400 },
        { 192, 25, 3000 },
    };

    [Theory]
    [MemberData(nameof(Extensions))]
    public void ExtendingEqualsThePlainLoopContinuedFromTheBankAndStopsAtTheRadius(int dim, int clusters, int bankSize)
    {
        const int n = 20_000;
        var options = new CoresetOptions(Seed: dim);
        // the bank: points of low-rank clusters (other draws); the new candidates: the same clusters plus a few new ones
        var bank = SyntheticEmbeddings.LowRankClusters(bankSize, dim, clusters, rank: 6, seed: 1);
        var fresh = SyntheticEmbeddings.LowRankClusters(n, dim, clusters + 2, rank: 6, seed: 1);
        using var store = SyntheticEmbeddings.Store(fresh, dim, options, batchRows: 3000);
        float[] bankRows = store.Project(bank);
        int p = store.ProjectionDim;
        var y = Projected(store);
        float before = LargestNearest(y, p, bankRows);
        foreach (float radius in new[] { before / 3, before / 5 })
        {
            var fast = CoresetSampler.Extend(store, bankRows, n, radius, layoutSeed: 3);
            var plain = CoresetSampler.ExtendPlain(store, bankRows, n, radius);
            output.WriteLine($"D={dim}: farthest new patch {before:F3} from the bank; radius {radius:F3}: {fast.Indices.Length} added, largest remaining {fast.LargestRemaining:F3}");
            Assert.Equal(plain.Indices, fast.Indices);
            Assert.Equal(plain.LargestRemaining, fast.LargestRemaining);
            Assert.InRange(fast.Indices.Length, 1, n - 1);

            // the stop rule: no new candidate is farther than the radius from the bank plus what was added ...
            float after = LargestNearest(y, p, [.. bankRows, .. Gather(y, p, fast.Indices)]);
            Assert.Equal(after, fast.LargestRemaining);
            Assert.True(after <= radius, $"a new patch is {after} from the extended bank, beyond the radius {radius}");
            // ... and it did not stop early: one point fewer leaves one farther than the radius
            var shorter = CoresetSampler.Extend(store, bankRows, fast.Indices.Length - 1, stopAt: null, layoutSeed: 3);
            Assert.Equal(fast.Indices[..^1], shorter.Indices);
            Assert.True(shorter.LargestRemaining > radius);
        }
    }

    [Fact]
    public void ACountAddsExactlyThatManyAndCoveredCandidatesAddNothing()
    {
        const int dim = 64, n = 5000;
        var options = new CoresetOptions();
        var rows = SyntheticEmbeddings.Blobs(n, dim, clusters: 5, spread: 1f, noise: 0.3f, seed: 9);
        using var store = SyntheticEmbeddings.Store(rows, dim, options);
        float[] bankRows = store.Project(SyntheticEmbeddings.Blobs(300, dim, clusters: 5, spread: 1f, noise: 0.3f, seed: 10));

        var fifty = CoresetSampler.Extend(store, bankRows, 50, stopAt: null, layoutSeed: 0);
        Assert.Equal(50, fifty.Indices.Distinct().Count());
        Assert.Equal(CoresetSampler.ExtendPlain(store, bankRows, 50, stopAt: null).Indices, fifty.Indices);

        // a bank that holds every candidate already: nothing lies beyond any radius
        float[] everything = store.Project(rows);
        var none = CoresetSampler.Extend(store, everything, n, stopAt: 0f, layoutSeed: 0);
        Assert.Empty(none.Indices);
        Assert.Equal(0f, none.LargestRemaining);
    }

    [Fact]
    public void TheNearestBankDistancesOfTheSearchEqualBruteForceEvenWithTies()
    {
        const int dim = 128, n = 8000;
        var random = new Random(12);
        var y = SyntheticEmbeddings.Blobs(n, dim, clusters: 10, spread: 1f, noise: 0.3f, seed: 12);
        var bank = SyntheticEmbeddings.Blobs(700, dim, clusters: 10, spread: 1f, noise: 0.3f, seed: 13);
        // exact ties: some bank rows twice, some candidates equal to bank rows (distance 0)
        float[] bankRows = [.. bank, .. bank.AsSpan(0, 50 * dim)];
        for (int i = 0; i < 40; i++) bank.AsSpan(random.Next(700) * dim, dim).CopyTo(y.AsSpan(random.Next(n) * dim, dim));
        var fast = GreedyStart.NearestDistances(y, n, dim, bankRows);
        var brute = GreedyStart.NearestDistancesBruteForce(y, n, dim, bankRows);
        Assert.Equal(brute, fast);
        Assert.Contains(0f, fast);
        Assert.Equal(GreedyStart.NearestDistancesBruteForce(y, n, dim, bank.AsSpan(0, 3 * dim).ToArray()), GreedyStart.NearestDistances(y, n, dim, bank.AsSpan(0, 3 * dim).ToArray()));
    }

    [Fact]
    public void ExtendingReportsProgressAndHonoursCancellation()
    {
        const int dim = 32;
        var rows = SyntheticEmbeddings.Blobs(4000, dim, clusters: 4, spread: 1f, noise: 0.5f, seed: 11);
        using var store = SyntheticEmbeddings.Store(rows, dim, new CoresetOptions());
        float[] bankRows = store.Project(rows.AsSpan(0, 100 * dim));
        var reports = new List<double>();
        CoresetSampler.Extend(store, bankRows, 4000, stopAt: 0.5f, layoutSeed: 0, new SyncProgress<double>(reports.Add));
        Assert.NotEmpty(reports);
        Assert.Equal(reports.Order(), reports);
        Assert.Equal(1.0, reports[^1]);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => CoresetSampler.Extend(store, bankRows, 10, null, 0, ct: cancelled.Token));
        Assert.Throws<ArgumentOutOfRangeException>(() => CoresetSampler.Extend(store, bankRows, 10, float.NaN, 0));
        Assert.Contains("width", Assert.Throws<PatchCoreException>(() => CoresetSampler.Extend(store, new float[5], 10, null, 0)).Message);
    }

    private static float[] Projected(CandidateStore store)
    {
        var y = new float[store.Count * store.ProjectionDim];
        store.ReadProjected(0, y);
        return y;
    }

    private static float[] Gather(float[] y, int dim, long[] indices) =>
        indices.SelectMany(i => y.AsSpan((int)i * dim, dim).ToArray()).ToArray();

    /// <summary>Brute force: the largest over rows of the distance to the nearest centre (the same distance function as the loops).</summary>
    private static float LargestNearest(float[] y, int dim, float[] centres) => GreedyStart.NearestDistancesBruteForce(y, y.Length / dim, dim, centres).Max();
}
