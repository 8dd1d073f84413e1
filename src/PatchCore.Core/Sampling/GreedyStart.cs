namespace PatchCore.Core.Sampling;

/// <summary>
/// Where the greedy starts: the initial min-distance vector m, shared by every loop so that they start from identical
/// values.
/// <list type="bullet">
/// <item>A build: m[i] = mean over seeded random start points s of ||y_i - y_s|| (the start points are not selected;
/// PatchCore's ApproximateGreedyCoresetSampler).</item>
/// <item>An update: m[i] = the distance from new candidate i to its nearest bank vector, so the greedy continues from
/// the bank's centres (<see cref="NearestDistances"/> is the brute-force reference; the blocked loop gets the same
/// values with pruning, <see cref="BlockedGreedyCoreset.Extend"/>).</item>
/// </list>
/// </summary>
internal static class GreedyStart
{
    /// <summary>min(k, n) distinct indices in [0, n), drawn with a seeded generator (order as drawn).</summary>
    public static int[] PickStartPoints(int n, int k, int seed)
    {
        k = Math.Min(k, n);
        // Derived so that the start points do not reuse the projection's random stream.
        var random = new Random(unchecked(seed * 7919 + 104729));
        var picked = new int[k];
        var seen = new HashSet<int>();
        for (int j = 0; j < k; j++)
        {
            int s;
            do { s = random.Next(n); } while (!seen.Add(s));
            picked[j] = s;
        }
        return picked;
    }

    /// <summary>Mean distance from <paramref name="row"/> to the start rows ([k, P] row-major), summed in start order.</summary>
    public static float InitialDistance(ReadOnlySpan<float> row, ReadOnlySpan<float> startRows, int dim)
    {
        int k = startRows.Length / dim;
        float sum = 0f;
        for (int j = 0; j < k; j++)
            sum += ProjectedDistance.Distance(row, startRows.Slice(j * dim, dim));
        return sum / k;
    }

    /// <summary>The build's m [N]: every row's <see cref="InitialDistance"/> to the rows <paramref name="startPoints"/> of <paramref name="y"/> [N, P].</summary>
    public static float[] MeanDistances(float[] y, int n, int dim, int[] startPoints)
    {
        var startRows = PlainGreedyCoreset.GatherRows(y, dim, startPoints);
        var m = new float[n];
        Parallel.For(0, n, i => m[i] = InitialDistance(y.AsSpan(i * dim, dim), startRows, dim));
        return m;
    }

    /// <summary>
    /// An update's m [N] by brute force: every row of <paramref name="y"/> [N, P] to its nearest row of
    /// <paramref name="bankRows"/> [K, P], O(N K): the reference for the pruned <see cref="BlockedGreedyCoreset.Extend"/>.
    /// </summary>
    public static float[] NearestDistances(float[] y, int n, int dim, float[] bankRows)
    {
        int k = bankRows.Length / dim;
        if (k == 0) throw new ArgumentException("The bank has no rows to measure distances to.", nameof(bankRows));
        var m = new float[n];
        Parallel.For(0, n, i =>
        {
            float best = float.MaxValue;
            for (int j = 0; j < k; j++)
                best = Math.Min(best, ProjectedDistance.Distance(y.AsSpan(i * dim, dim), bankRows.AsSpan(j * dim, dim)));
            m[i] = best;
        });
        return m;
    }
}
