namespace PatchCore.Core;

/// <summary>
/// Which good images are held out of a bank to calibrate its thresholds: deterministic and evenly spread. The images
/// sorted by path; h = max(minimum, round(n * fraction)) of them (at most n - 1, none when the fraction is 0) at
/// positions floor((j + 0.5) * n / h).
/// </summary>
internal static class HoldOutSplit
{
    public static (string[] Bank, string[] HeldOut) Split(IReadOnlyList<string> images, double fraction, int minimum)
    {
        var sorted = images.OrderBy(p => p, StringComparer.Ordinal).ToArray();
        int n = sorted.Length;
        int h = fraction <= 0 ? 0 : Math.Min(n - 1, Math.Max(minimum, (int)Math.Round(n * fraction)));
        if (h <= 0) return (sorted, []);
        var held = new HashSet<int>();
        for (int j = 0; j < h; j++) held.Add((int)Math.Floor((j + 0.5) * n / h));
        return (sorted.Where((_, i) => !held.Contains(i)).ToArray(), sorted.Where((_, i) => held.Contains(i)).ToArray());
    }
}
