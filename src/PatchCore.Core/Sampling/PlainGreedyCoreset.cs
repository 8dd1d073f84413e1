namespace PatchCore.Core.Sampling;

/// <summary>
/// The reference greedy loop, O(N * count): every step takes s = argmax m (lowest index on ties), selects it,
/// and lowers m[i] to min(m[i], ||y_i - y_s||) for all i. A selected point's m is set to -1 so it can never be
/// picked again (PatchCore's code leaves it at 0, which only differs once every remaining m is 0, i.e. when
/// the rest of the points duplicate selected ones; then this picks them in index order instead of repeating).
/// With <c>stopAt</c> the loop also stops, before a step, when the largest m is at most that radius. It returns the
/// selection and the largest m after the last centre (the next point's distance; 0 when every point is selected).
/// Two workers split the rows; each step updates and finds the next argmax in the same pass.
/// </summary>
internal static class PlainGreedyCoreset
{
    /// <param name="initialM">Starting m [N] (<see cref="GreedyStart"/>); not modified.</param>
    public static (long[] Selected, float Largest) Select(float[] y, int n, int dim, int count, float[] initialM, float? stopAt,
        IProgress<double>? progress, CancellationToken ct)
    {
        var m = (float[])initialM.Clone();
        int workers = Math.Clamp(Environment.ProcessorCount, 1, Math.Max(1, n / 4096));
        var bestValue = new float[workers];
        var bestIndex = new int[workers];
        var center = new float[dim];
        var selected = new long[count];
        var reporter = new ProgressReporter(progress, count, stopAt);
        int s = Argmax(m, 0, n, out _);
        int t = 0;
        for (; t < count; t++)
        {
            ct.ThrowIfCancellationRequested();
            if (stopAt is float radius && m[s] <= radius) break;
            float chosen = m[s];
            selected[t] = s;
            m[s] = -1f;
            y.AsSpan(s * dim, dim).CopyTo(center);
            Parallel.For(0, workers, w =>
            {
                int start = (int)((long)n * w / workers), end = (int)((long)n * (w + 1) / workers);
                UpdateRange(y, m, dim, center, start, end);
                bestIndex[w] = Argmax(m, start, end, out bestValue[w]);
            });
            s = bestIndex[0];
            for (int w = 1; w < workers; w++)
                if (bestValue[w] > m[s]) s = bestIndex[w]; // ranges ascend, so '>' keeps the lowest index on ties
            reporter.Step(t + 1, chosen);
        }
        reporter.Done();
        return (selected[..t], Math.Max(0f, m[s]));
    }

    private static void UpdateRange(float[] y, float[] m, int dim, float[] center, int start, int end)
    {
        ref float c = ref center[0];
        int i = start;
        for (; i + 4 <= end; i += 4)
        {
            ProjectedDistance.Distance4(ref c, ref y[i * dim], ref y[(i + 1) * dim], ref y[(i + 2) * dim], ref y[(i + 3) * dim], dim,
                out float d0, out float d1, out float d2, out float d3);
            // Distance4(center, points) computes (c - y)^2 sums; Distance(point, center) the (y - c)^2 sums: the
            // squares of a difference and of its negation are identical, so both orders give the same bits.
            m[i] = Math.Min(m[i], d0);
            m[i + 1] = Math.Min(m[i + 1], d1);
            m[i + 2] = Math.Min(m[i + 2], d2);
            m[i + 3] = Math.Min(m[i + 3], d3);
        }
        for (; i < end; i++)
            m[i] = Math.Min(m[i], ProjectedDistance.Distance(ref y[i * dim], ref c, dim));
    }

    private static int Argmax(float[] m, int start, int end, out float value)
    {
        int best = start;
        for (int i = start + 1; i < end; i++)
            if (m[i] > m[best]) best = i;
        value = m[best];
        return best;
    }

    internal static float[] GatherRows(float[] y, int dim, int[] rows)
    {
        var result = new float[rows.Length * dim];
        for (int j = 0; j < rows.Length; j++)
            y.AsSpan(rows[j] * dim, dim).CopyTo(result.AsSpan(j * dim, dim));
        return result;
    }
}
