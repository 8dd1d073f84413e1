namespace PatchCore.Core.Sampling;

/// <summary>
/// The seeded start of the greedy: the random start points and the initial min-distance vector
/// m[i] = mean over start points s of ||y_i - y_s|| (the start points themselves are not selected).
/// Shared by every sampler so that they start from identical values.
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
}
