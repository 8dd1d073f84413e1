namespace PatchCore.Bench;

/// <summary>Summary statistics of repeated measurements.</summary>
internal static class Samples
{
    public static double Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("No values to take the median of.", nameof(values));
        var sorted = values.OrderBy(v => v).ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Runs <paramref name="action"/> <paramref name="warmups"/> times untimed, then returns the seconds of each of <paramref name="runs"/> timed runs.</summary>
    public static double[] Time(int warmups, int runs, Action action)
    {
        for (int i = 0; i < warmups; i++) action();
        var seconds = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            action();
            seconds[i] = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        return seconds;
    }
}
