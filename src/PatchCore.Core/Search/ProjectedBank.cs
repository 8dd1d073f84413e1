using PatchCore.Core.Sampling;
using PatchCore.Core.Native;

namespace PatchCore.Core.Search;

/// <summary>
/// The maths of the projected search, apart from its orchestration (<see cref="ProjectedFlatIndex"/>).
///
/// With an orthonormal basis A [d, D] of the bank's first d principal components and the mean m, every vector x
/// splits into its projection p = A (x - m) and a residual orthogonal to it of length r = sqrt(||x - m||^2 - ||p||^2).
/// For a query q and a bank vector y, Pythagoras and the reverse triangle inequality on the residuals give
///
///     ||q - y||^2 = ||p_q - p_y||^2 + ||res_q - res_y||^2  >=  ||p_q - p_y||^2 + (r_q - r_y)^2  =: LB_d(q, y),
///
/// a lower bound that costs a d-dimensional dot product instead of a D-dimensional one and grows with d. Two are used:
/// a coarse one (d1 components) for every pair the search does not rule out by a whole list's bound
/// (<see cref="ListedBank"/>), LB = max(0, ||p_q||^2 + ||p_y||^2 - 2 p_q . p_y) + (r_q - r_y)^2; and a refined one
/// (d2 > d1 components, computed directly) for the few pairs the coarse bound cannot rule out, which reads d2 floats
/// per pair from a compact array instead of D from the bank. A bank
/// vector whose bound exceeds the k-th smallest exact distance found so far cannot be among the k nearest.
/// Rounding (the sgemm's cancellation, residuals from differences of norms) can push a bound a little above the true
/// distance, so the pruning test allows a slack of <see cref="SlackRelative"/> times the centred squared norms
/// involved; the tests measure the bounds against double-precision distances.
/// </summary>
internal sealed class ProjectedBank
{
    /// <summary>Slack of the pruning test, relative to ||q - m||^2 + max_y ||y - m||^2.</summary>
    public const float SlackRelative = 1e-4f;

    private readonly float[] _mean;        // [D]
    private readonly float[] _components;  // [d2, D], orthonormal rows by decreasing variance
    private readonly float[] _offset;      // [d2] = A m, so that p = A x - A m

    private ProjectedBank(int dimension, int coarseDim, int refinedDim, float[] mean, float[] components, float[] variances)
    {
        Dimension = dimension;
        CoarseDim = coarseDim;
        RefinedDim = refinedDim;
        _mean = mean;
        _components = components;
        _offset = new float[refinedDim];
        NativeLinearAlgebra.MultiplyTransposed(components, mean, _offset, refinedDim, 1, dimension);
        double total = 0, kept = 0;
        for (int i = 0; i < variances.Length; i++) { total += variances[i]; if (i < coarseDim) kept += variances[i]; }
        ExplainedVariance = total > 0 ? kept / total : 1;
    }

    public int Dimension { get; }
    /// <summary>d1: components of the coarse bound (the sgemm).</summary>
    public int CoarseDim { get; }
    /// <summary>d2: components of the refined bound (equal to d1 when there is none).</summary>
    public int RefinedDim { get; }
    /// <summary>Share of the bank's variance inside the coarse projection (how tight the coarse bounds can be).</summary>
    public double ExplainedVariance { get; }

    /// <summary>The bank's projected rows.</summary>
    public ProjectedRows Bank { get; private set; } = ProjectedRows.Empty;

    /// <summary>
    /// Fits the basis on at most <paramref name="sampleRows"/> evenly spaced rows of the bank [n, D] (the bounds hold
    /// for any orthonormal basis; the sample only decides how tight they are), then projects the whole bank.
    /// </summary>
    public static ProjectedBank Fit(ReadOnlySpan<float> bank, int n, int dimension, int coarseDim, int refinedDim, int sampleRows)
    {
        int take = Math.Min(n, Math.Max(1, sampleRows));
        // FAISS finds at most as many components as it has sample rows.
        int limit = Math.Min(dimension, take);
        coarseDim = Math.Min(coarseDim, limit);
        refinedDim = Math.Clamp(refinedDim, coarseDim, limit);
        float[] sample = new float[(long)take * dimension];
        for (int i = 0; i < take; i++)
        {
            long row = (long)i * n / take;
            bank.Slice((int)(row * dimension), dimension).CopyTo(sample.AsSpan(i * dimension, dimension));
        }
        var (mean, components, variances) = NativeLinearAlgebra.Pca(sample, take, dimension, refinedDim);
        var projected = new ProjectedBank(dimension, coarseDim, refinedDim, mean, components, variances);
        projected.Bank = projected.Project(bank, n);
        return projected;
    }

    /// <summary>Drops the bank's coarse rows (for a caller that keeps its own copy in another order); the refined ones stay.</summary>
    public void ForgetCoarseRows() => Bank = Bank.Without(coarse: true, refined: false);

    /// <summary>Drops the bank's coarse and refined rows (for a caller that keeps its own copies); norms stay.</summary>
    public void ForgetRows() => Bank = Bank.Without(coarse: true, refined: true);

    /// <summary>
    /// Projects rows x [n, D]: coarse and refined coordinates, norms and residual lengths. With <paramref name="reuse"/>
    /// (rows this bank projected before, holding at least n), its arrays are overwritten and it is returned: a search
    /// projects every query chunk, and fresh arrays cost first-touch page faults each time.
    /// </summary>
    public ProjectedRows Project(ReadOnlySpan<float> x, int n, ProjectedRows? reuse = null)
    {
        int d1 = CoarseDim, d2 = RefinedDim, dim = Dimension;
        var rows = reuse is not null && reuse.Fits(n, d1, d2) ? reuse : new ProjectedRows(n, d1, d2);
        NativeLinearAlgebra.MultiplyTransposed(x, _components, rows.Refined, n, d2, dim);   // [n, D] . [d2, D]^T -> [n, d2]
        float max = 0;
        for (int i = 0; i < n; i++)
        {
            Span<float> refined = rows.Refined.AsSpan(i * d2, d2);
            float coarseNorm = 0, refinedNorm = 0;
            for (int c = 0; c < d2; c++)
            {
                refined[c] -= _offset[c];
                float square = refined[c] * refined[c];
                refinedNorm += square;
                if (c < d1) coarseNorm += square;
            }
            refined[..d1].CopyTo(rows.Coarse.AsSpan(i * d1, d1));                              // [n, d2] -> [n, d1]
            float centred = ProjectedDistance.Distance(x.Slice(i * dim, dim), _mean);
            centred *= centred;
            rows.CoarseNorms[i] = coarseNorm;
            rows.CoarseResiduals[i] = MathF.Sqrt(MathF.Max(0, centred - coarseNorm));
            rows.RefinedResiduals[i] = MathF.Sqrt(MathF.Max(0, centred - refinedNorm));
            rows.CentredNorms[i] = centred;
            max = MathF.Max(max, centred);
        }
        rows.MaxCentredNorm = max;
        return rows;
    }

    /// <summary>Slack of the pruning test for query row <paramref name="i"/> of <paramref name="queries"/>.</summary>
    public float Slack(ProjectedRows queries, int i) => SlackRelative * (queries.CentredNorms[i] + Bank.MaxCentredNorm);

    /// <summary>The refined bound between query row <paramref name="i"/> and bank row <paramref name="j"/>.</summary>
    public float RefinedBound(ProjectedRows queries, int i, long j)
    {
        int d2 = RefinedDim;
        return Bound(queries.Refined.AsSpan(i * d2, d2), queries.RefinedResiduals[i], Bank.Refined.AsSpan((int)(j * d2), d2), Bank.RefinedResiduals[j]);
    }

    /// <summary>LB_d = ||p_q - p_y||^2 + (r_q - r_y)^2 from two rows' projected coordinates and residual lengths, computed directly.</summary>
    public static float Bound(ReadOnlySpan<float> query, float queryResidual, ReadOnlySpan<float> row, float rowResidual)
    {
        float projected = ProjectedDistance.Distance(query, row);
        float residual = queryResidual - rowResidual;
        return projected * projected + residual * residual;
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
