namespace PatchCore.Core.Tests.Evaluation;

/// <summary>
/// Deliberately naive, independent formulas used to check the library: O(P*N) pair counting, a threshold loop
/// that recounts everything per threshold. Fine for a few thousand samples.
/// </summary>
internal static class ReferenceMetrics
{
    /// <summary>P(anomalous score &gt; normal score) + 0.5 P(equal), by counting every pair.</summary>
    public static double PairwiseAuroc(float[] scores, bool[] labels)
    {
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (!labels[i]) continue;
            for (int j = 0; j < scores.Length; j++)
            {
                if (labels[j]) continue;
                pairs++;
                if (scores[i] > scores[j]) wins += 1;
                else if (scores[i] == scores[j]) wins += 0.5;
            }
        }
        return wins / pairs;
    }

    /// <summary>Mann-Whitney U from average ranks (the textbook route the brief names).</summary>
    public static double AverageRankAuroc(float[] scores, bool[] labels)
    {
        int[] order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        var ranks = new double[scores.Length];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]]) end++;
            double average = (start + end) / 2.0 + 1; // ranks are 1-based
            for (int k = start; k <= end; k++) ranks[order[k]] = average;
            start = end + 1;
        }
        long p = labels.Count(l => l), n = labels.Length - p;
        double rankSum = Enumerable.Range(0, scores.Length).Where(i => labels[i]).Sum(i => ranks[i]);
        return (rankSum - p * (p + 1) / 2.0) / (p * n);
    }

    /// <summary>Max F1 by recounting the confusion matrix at each distinct score (highest threshold wins ties).</summary>
    public static (double F1, float Threshold) BruteF1Max(float[] scores, bool[] labels)
    {
        double best = double.NegativeInfinity;
        float bestThreshold = float.NaN;
        foreach (float t in scores.Distinct().OrderByDescending(s => s))
        {
            int tp = 0, fp = 0, fn = 0;
            for (int i = 0; i < scores.Length; i++)
            {
                bool predicted = scores[i] >= t;
                if (predicted && labels[i]) tp++;
                else if (predicted) fp++;
                else if (labels[i]) fn++;
            }
            double f1 = 2.0 * tp / (2 * tp + fp + fn);
            if (f1 > best) { best = f1; bestThreshold = t; }
        }
        return (best, bestThreshold);
    }

    /// <summary>
    /// AUPRO by recounting at each distinct threshold. regionOf[i] = global region id of pixel i (0 = normal),
    /// regions numbered 1..regionCount.
    /// </summary>
    public static double BruteAupro(float[] scores, int[] regionOf, int regionCount, double limit)
    {
        var size = new int[regionCount + 1];
        foreach (int r in regionOf) size[r]++;
        int normals = size[0];
        var points = new List<(double Fpr, double Pro)> { (0, 0) };
        foreach (float t in scores.Distinct().OrderByDescending(s => s))
        {
            var hits = new int[regionCount + 1];
            for (int i = 0; i < scores.Length; i++)
                if (scores[i] >= t) hits[regionOf[i]]++;
            double pro = 0;
            for (int r = 1; r <= regionCount; r++) pro += (double)hits[r] / size[r];
            points.Add(((double)hits[0] / normals, pro / regionCount));
        }
        double area = 0;
        for (int k = 1; k < points.Count; k++)
        {
            var (f0, p0) = points[k - 1];
            var (f1, p1) = points[k];
            if (f1 >= limit)
            {
                double pAt = p0 + (p1 - p0) * (limit - f0) / (f1 - f0);
                area += (limit - f0) * (p0 + pAt) / 2;
                break;
            }
            area += (f1 - f0) * (p0 + p1) / 2;
        }
        return area / limit;
    }
}
