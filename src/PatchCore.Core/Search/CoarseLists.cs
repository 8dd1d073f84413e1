using PatchCore.Core.Native;

namespace PatchCore.Core.Search;

/// <summary>
/// A k-means partition of projected rows, as both projected searches use it: centroids [L, d], their squared norms,
/// and the rows grouped by nearest centroid (<see cref="Order"/>[<see cref="Starts"/>[c] .. <see cref="Starts"/>[c + 1])
/// are the rows of list c, in ascending row order).
/// </summary>
internal sealed record CoarseLists(float[] Centroids, float[] CentroidNorms, int[] Starts, int[] Order)
{
    public int Count => CentroidNorms.Length;

    /// <summary>Splits rows x [n, d] into <paramref name="lists"/> (at most n) k-means lists.</summary>
    public static CoarseLists Build(float[] x, int n, int d, int lists, int seed)
    {
        lists = Math.Clamp(lists, 1, Math.Max(1, n));
        float[] centroids = NativeLinearAlgebra.KMeans(x, n, d, lists, seed: seed);   // [L, d]
        var centroidNorms = new float[lists];
        for (int c = 0; c < lists; c++)
            for (int j = 0; j < d; j++) centroidNorms[c] += centroids[c * d + j] * centroids[c * d + j];

        // Nearest centroid of every row, in blocks of rows: [rows, d] . [L, d]^T -> [rows, L].
        var assignment = new int[n];
        const int blockRows = 4096;
        var scores = new float[Math.Min(blockRows, n) * lists];
        for (int r0 = 0; r0 < n; r0 += blockRows)
        {
            int rn = Math.Min(blockRows, n - r0);
            NativeLinearAlgebra.MultiplyTransposed(x.AsSpan(r0 * d, rn * d), centroids, scores, rn, lists, d, alpha: -2f);
            for (int r = 0; r < rn; r++)
            {
                int best = 0;
                float bestScore = float.PositiveInfinity;
                for (int c = 0; c < lists; c++)
                {
                    float s = scores[r * lists + c] + centroidNorms[c];
                    if (s < bestScore) (best, bestScore) = (c, s);
                }
                assignment[r0 + r] = best;
            }
        }

        // Counting sort of the rows by list.
        var starts = new int[lists + 1];
        foreach (int a in assignment) starts[a + 1]++;
        for (int c = 0; c < lists; c++) starts[c + 1] += starts[c];
        var next = starts[..lists];
        var order = new int[n];
        for (int r = 0; r < n; r++) order[next[assignment[r]]++] = r;
        return new CoarseLists(centroids, centroidNorms, starts, order);
    }
}
