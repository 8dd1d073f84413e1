using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using PatchCore.Core.Sampling;

namespace PatchCore.Core.MemoryBank;

/// <summary>
/// The maths of the projected search, apart from its orchestration (<see cref="ProjectedFlatIndex"/>).
///
/// With an orthonormal basis A [d, D] of the bank's first d principal components and the mean m, every vector x
/// splits into its projection p = A (x - m) and a residual orthogonal to it of length r = sqrt(||x - m||^2 - ||p||^2).
/// For a query q and a bank vector y, Pythagoras and the reverse triangle inequality on the residuals give
///
///     ||q - y||^2 = ||p_q - p_y||^2 + ||res_q - res_y||^2  >=  ||p_q - p_y||^2 + (r_q - r_y)^2  =: LB(q, y),
///
/// a lower bound that costs a d-dimensional dot product instead of a D-dimensional one, computed for a whole block at
/// once as one sgemm: LB = max(0, ||p_q||^2 + ||p_y||^2 - 2 p_q . p_y) + (r_q - r_y)^2. A bank vector whose LB exceeds
/// the k-th smallest exact distance found so far cannot be among the k nearest, so only the few vectors with a small
/// LB get an exact distance. Rounding (the sgemm's cancellation, the residual from a difference of norms) can push
/// LB a little above the true distance, so the pruning test allows a slack of <see cref="SlackRelative"/> times the
/// centred squared norms involved; the tests measure the largest excess on real embeddings.
/// </summary>
internal sealed class ProjectedBank
{
    /// <summary>Slack of the pruning test, relative to ||q - m||^2 + max_y ||y - m||^2.</summary>
    public const float SlackRelative = 1e-4f;

    private readonly float[] _mean;        // [D]
    private readonly float[] _components;  // [d, D], orthonormal rows
    private readonly float[] _offset;      // [d] = A m, so that p = A x - A m

    private ProjectedBank(int dimension, int projectionDim, float[] mean, float[] components, float[] variances)
    {
        Dimension = dimension;
        ProjectionDim = projectionDim;
        _mean = mean;
        _components = components;
        _offset = new float[projectionDim];
        NativeLinearAlgebra.MultiplyTransposed(components, mean, _offset, projectionDim, 1, dimension);
        double total = 0, kept = 0;
        for (int i = 0; i < variances.Length; i++) { total += variances[i]; if (i < projectionDim) kept += variances[i]; }
        ExplainedVariance = total > 0 ? kept / total : 1;
    }

    public int Dimension { get; }
    public int ProjectionDim { get; }
    /// <summary>Share of the bank's variance inside the projection (how tight the bounds can be).</summary>
    public double ExplainedVariance { get; }

    /// <summary>The bank's projections [N, d], their squared norms [N], residual lengths [N] and the largest centred squared norm.</summary>
    public float[] Projected { get; private set; } = [];
    public float[] ProjectedNorms { get; private set; } = [];
    public float[] Residuals { get; private set; } = [];
    public float MaxCentredNorm { get; private set; }

    /// <summary>
    /// Fits the basis on at most <paramref name="sampleRows"/> evenly spaced rows of the bank [n, D] (the bounds hold
    /// for any orthonormal basis; the sample only decides how tight they are), then projects the whole bank.
    /// </summary>
    public static ProjectedBank Fit(ReadOnlySpan<float> bank, int n, int dimension, int projectionDim, int sampleRows)
    {
        int take = Math.Min(n, Math.Max(1, sampleRows));
        // FAISS finds at most as many components as it has sample rows.
        projectionDim = Math.Min(projectionDim, Math.Min(dimension, take));
        float[] sample = new float[(long)take * dimension];
        for (int i = 0; i < take; i++)
        {
            long row = (long)i * n / take;
            bank.Slice((int)(row * dimension), dimension).CopyTo(sample.AsSpan(i * dimension, dimension));
        }
        var (mean, components, variances) = NativeLinearAlgebra.Pca(sample, take, dimension, projectionDim);
        var projected = new ProjectedBank(dimension, projectionDim, mean, components, variances);
        projected.ProjectBank(bank, n);
        return projected;
    }

    private void ProjectBank(ReadOnlySpan<float> bank, int n)
    {
        var p = new float[(long)n * ProjectionDim];
        var norms = new float[n];
        var residuals = new float[n];
        Project(bank, n, p, norms, residuals, out float maxCentred);
        Projected = p;
        ProjectedNorms = norms;
        Residuals = residuals;
        MaxCentredNorm = maxCentred;
    }

    /// <summary>
    /// Projects rows x [n, D] into p [n, d] (= x A^T - A m), with ||p||^2 [n] and residual lengths [n]; returns the
    /// largest centred squared norm ||x - m||^2 through <paramref name="maxCentredNorm"/>.
    /// </summary>
    public void Project(ReadOnlySpan<float> x, int n, Span<float> p, Span<float> norms, Span<float> residuals, out float maxCentredNorm)
    {
        int d = ProjectionDim, dim = Dimension;
        NativeLinearAlgebra.MultiplyTransposed(x, _components, p, n, d, dim);   // [n, D] . [d, D]^T -> [n, d]
        float max = 0;
        for (int i = 0; i < n; i++)
        {
            Span<float> row = p.Slice(i * d, d);
            float projectedNorm = 0;
            for (int c = 0; c < d; c++)
            {
                row[c] -= _offset[c];
                projectedNorm += row[c] * row[c];
            }
            float centred = ProjectedDistance.Distance(x.Slice(i * dim, dim), _mean);
            centred *= centred;
            norms[i] = projectedNorm;
            residuals[i] = MathF.Sqrt(MathF.Max(0, centred - projectedNorm));
            max = MathF.Max(max, centred);
        }
        maxCentredNorm = max;
    }

    /// <summary>
    /// Turns one row of a block product g[j] = -2 p_q . p_y(j) into lower bounds in place:
    /// g[j] = max(0, g[j] + ||p_q||^2 + ||p_y||^2) + (r_q - r_y)^2, for the block's bank norms and residuals.
    /// </summary>
    public static void LowerBounds(Span<float> g, float queryNorm, float queryResidual, ReadOnlySpan<float> bankNorms, ReadOnlySpan<float> bankResiduals)
    {
        int n = g.Length, j = 0;
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float nr = ref MemoryMarshal.GetReference(bankNorms);
        ref float rr = ref MemoryMarshal.GetReference(bankResiduals);
        if (Vector256.IsHardwareAccelerated)
        {
            var qn = Vector256.Create(queryNorm);
            var qr = Vector256.Create(queryResidual);
            for (; j + 8 <= n; j += 8)
            {
                var dot = Vector256.LoadUnsafe(ref gr, (nuint)j) + qn + Vector256.LoadUnsafe(ref nr, (nuint)j);
                var dr = qr - Vector256.LoadUnsafe(ref rr, (nuint)j);
                Vector256.StoreUnsafe(Vector256.Max(dot, Vector256<float>.Zero) + dr * dr, ref gr, (nuint)j);
            }
        }
        for (; j < n; j++)
        {
            float dr = queryResidual - bankResiduals[j];
            g[j] = MathF.Max(0, g[j] + queryNorm + bankNorms[j]) + dr * dr;
        }
    }

    /// <summary>
    /// The <paramref name="m"/> smallest values of <paramref name="values"/>: their positions into <paramref name="positions"/>
    /// and values into <paramref name="smallest"/>, ascending. Returns how many were found (min(m, length)).
    /// </summary>
    public static int Smallest(ReadOnlySpan<float> values, int m, Span<int> positions, Span<float> smallest)
    {
        int count = 0, n = values.Length, j = 0;
        float worst = float.PositiveInfinity;
        ref float vr = ref MemoryMarshal.GetReference(values);
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 8 <= n; j += 8)
            {
                uint hits = Vector256.LessThan(Vector256.LoadUnsafe(ref vr, (nuint)j), Vector256.Create(worst)).ExtractMostSignificantBits();
                while (hits != 0)
                {
                    int lane = System.Numerics.BitOperations.TrailingZeroCount(hits);
                    hits &= hits - 1;
                    Insert(values[j + lane], j + lane, m, ref count, positions, smallest);
                    if (count == m) worst = smallest[m - 1];
                }
            }
        }
        for (; j < n; j++)
            if (values[j] < worst)
            {
                Insert(values[j], j, m, ref count, positions, smallest);
                if (count == m) worst = smallest[m - 1];
            }
        return count;
    }

    /// <summary>Inserts (value, label) into the ascending list of at most m; the largest drops out when full.</summary>
    public static void Insert<TLabel>(float value, TLabel label, int m, ref int count, Span<TLabel> labels, Span<float> values)
    {
        int at = count < m ? count : m - 1;
        if (count == m && value >= values[at]) return;
        while (at > 0 && values[at - 1] > value)
        {
            values[at] = values[at - 1];
            labels[at] = labels[at - 1];
            at--;
        }
        values[at] = value;
        labels[at] = label;
        if (count < m) count++;
    }
}
