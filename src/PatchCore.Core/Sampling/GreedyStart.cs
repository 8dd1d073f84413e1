namespace PatchCore.Core.Sampling;

/// <summary>
/// Where the greedy starts: the initial min-distance vector m, shared by every loop so that they start from identical
/// values.
/// <list type="bullet">
/// <item>A build: m[i] = mean over seeded random start points s of ||y_i - y_s|| (the start points are not selected;
/// PatchCore's ApproximateGreedyCoresetSampler).</item>
/// <item>An update: m[i] = the distance from new candidate i to its nearest bank vector, so the greedy continues from
/// the bank's centres (<see cref="NearestDistances"/>; <see cref="NearestDistancesBruteForce"/> is its reference).</item>
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
    /// An update's m [N]: every row of <paramref name="y"/> [N, P] to its nearest row of <paramref name="bankRows"/>
    /// [K, P], equal bit for bit to <see cref="NearestDistancesBruteForce"/>. An exact search (FAISS Flat, an sgemm)
    /// names each row's <see cref="Shortlist"/> nearest bank rows by its own arithmetic; their distances are then
    /// recomputed with <see cref="ProjectedDistance"/> and the smallest kept, so a near tie that the sgemm's rounding
    /// orders differently still ends at the greedy's own minimum. (The blocked loop's triangle-inequality pruning,
    /// tried for this with the bank rows as centres already chosen, computed more distances than it saved in 128
    /// dimensions: 2.5x slower on magnetic_tile.)
    /// </summary>
    public static float[] NearestDistances(float[] y, int n, int dim, float[] bankRows)
    {
        int k = bankRows.Length / dim;
        if (k == 0) throw new ArgumentException("The bank has no rows to measure distances to.", nameof(bankRows));
        int shortlist = Math.Min(Shortlist, k);
        var m = new float[n];
        using var index = Search.SearchIndexFactory.ExactFlat(bankRows, dim);
        var squared = new float[(long)QueryBlock * shortlist];
        var labels = new long[(long)QueryBlock * shortlist];
        for (int first = 0; first < n; first += QueryBlock)
        {
            int rows = Math.Min(QueryBlock, n - first);
            index.Search(y.AsSpan(first * dim, rows * dim), shortlist, squared.AsSpan(0, rows * shortlist), labels.AsSpan(0, rows * shortlist));
            Parallel.For(0, rows, r =>
            {
                float best = float.MaxValue;
                for (int j = 0; j < shortlist; j++)
                {
                    long row = labels[r * shortlist + j];
                    if (row >= 0) best = Math.Min(best, ProjectedDistance.Distance(y.AsSpan((first + r) * dim, dim), bankRows.AsSpan((int)row * dim, dim)));
                }
                m[first + r] = best;
            });
        }
        return m;
    }

    /// <summary>Nearest bank rows per candidate whose distances <see cref="NearestDistances"/> recomputes.</summary>
    internal const int Shortlist = 4;
    private const int QueryBlock = 16384;

    /// <summary>The reference for <see cref="NearestDistances"/>: every candidate against every bank row, O(N K).</summary>
    public static float[] NearestDistancesBruteForce(float[] y, int n, int dim, float[] bankRows)
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
