using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using PatchCore.Core.Devices;
using PatchCore.Core.Sampling;
using PatchCore.Core.Native;

namespace PatchCore.Core.Search;

/// <summary>
/// Flat (brute-force) k-nearest-neighbour search that skips most of the arithmetic: per block of queries x bank rows,
/// one sgemm in the space of the bank's first principal components gives a lower bound on every squared distance
/// (<see cref="ProjectedBank"/>); the best-bounded rows get an exact distance, and so does every row whose bounds
/// (the coarse one, then a refined one) do not exceed the k-th best distance found so far. The result is then the exhaustive search's, with
/// distances computed directly as sums of squared differences (FAISS Flat computes them as ||x||^2 - 2xy + ||y||^2).
///
/// The bank's vectors are held as given (an array passed to <see cref="Over"/> is shared, not copied). The projection
/// is fitted at the first search after vectors are added (<see cref="ProjectedIndexBase"/>). Distances are squared L2.
/// Calls are serialised.
/// </summary>
internal sealed class ProjectedFlatIndex : ProjectedIndexBase
{
    private readonly long _workBudgetBytes;
    private ProjectedBank? _projected;
    private float[] _block = [];
    private ProjectedRows? _queryProjection;
    private long _exact, _refined;
    private (TimeSpan Projection, TimeSpan Gemm, TimeSpan Rows) _times;

    public ProjectedFlatIndex(int dimension, ProjectedSearchOptions? options = null, long? workBudgetBytes = null)
        : base(dimension)
    {
        if (workBudgetBytes is < 1)
            throw new ArgumentOutOfRangeException(nameof(workBudgetBytes), workBudgetBytes, "The work budget must be positive.");
        options ??= ProjectedSearchOptions.ExactDefault;
        options.Validate();
        Options = options;
        _workBudgetBytes = workBudgetBytes ?? ComputeDevice.DefaultWorkBudgetBytes(TorchSharp.torch.CPU);
    }

    /// <summary>An index over <paramref name="vectors"/> [n, dimension], sharing the array (it must not change afterwards).</summary>
    public static ProjectedFlatIndex Over(float[] vectors, int dimension, ProjectedSearchOptions? options = null, long? workBudgetBytes = null)
    {
        var index = new ProjectedFlatIndex(dimension, options, workBudgetBytes);
        index.Share(vectors);
        return index;
    }

    public ProjectedSearchOptions Options { get; }

    /// <summary>Share of the bank's variance the projection keeps (NaN before the first search).</summary>
    public double ExplainedVariance => _projected?.ExplainedVariance ?? double.NaN;

    /// <summary>Exact distances computed per query in the last search (the rest were pruned by their bounds).</summary>
    public double ExactDistancesPerQuery { get; private set; }

    /// <summary>Refined bounds computed per query in the last search.</summary>
    public double RefinedBoundsPerQuery { get; private set; }

    /// <summary>Where the last search spent its time: projecting the queries, the sgemm of the coarse bounds, and the per-row passes (bounds, shortlist, refined bounds, exact distances).</summary>
    public (TimeSpan Projection, TimeSpan Gemm, TimeSpan Rows) LastTimes { get; private set; }

    private protected override void EnsureFit() =>
        _projected ??= ProjectedBank.Fit(Vectors, (int)Count, Dimension, Options.ProjectionDim, Options.RefinedDim, Options.SampleRows);

    private protected override void DropFit()
    {
        _projected = null;
        _block = [];
        _queryProjection = null;
    }

    private protected override void BeginSearch()
    {
        _exact = _refined = 0;
        _times = default;
    }

    private protected override void EndSearch(long queries)
    {
        ExactDistancesPerQuery = (double)_exact / queries;
        RefinedBoundsPerQuery = (double)_refined / queries;
        LastTimes = _times;
    }

    /// <summary>
    /// Largest block product, whatever the budget. The index keeps its block between searches, so this is memory the
    /// process holds; since only a row's first block seeds its threshold, smaller blocks cost no extra exact distances
    /// (the bottle bank, 16,385 rows, at batch 8: 4, 16 and 128 MiB blocks searched equally fast within the noise).
    /// </summary>
    internal const long MaxBlockBytes = 8L << 20;

    /// <summary>Bank rows per block product for <paramref name="queryRows"/> queries: [queryRows, bankRows] floats within half the work budget and <see cref="MaxBlockBytes"/>.</summary>
    internal static int BlockRows(long budgetBytes, int queryRows, long bankCount) =>
        (int)Math.Clamp(Math.Min(budgetBytes / 2, MaxBlockBytes) / (sizeof(float) * (long)queryRows), Math.Min(1024, bankCount), Math.Min(bankCount, int.MaxValue / Math.Max(1, queryRows)));

    // Orchestration of one query chunk: project the queries, then per bank block one sgemm and one pass per query row.
    private protected override void SearchChunk(float[] query, int rows, int k, Span<float> distances, Span<long> labels)
    {
        ProjectedBank bank = _projected!;
        int d = bank.CoarseDim, dim = Dimension;
        long start = Stopwatch.GetTimestamp();
        ProjectedRows projected = _queryProjection = bank.Project(query.AsSpan(0, rows * dim), rows, reuse: _queryProjection);
        _times.Projection += Stopwatch.GetElapsedTime(start);
        float[] bestD = distances.ToArray();   // [rows, k], ascending per row
        long[] bestL = labels.ToArray();
        var found = new int[rows];
        var exactCounts = new long[rows];
        var refinedCounts = new long[rows];
        int blockRows = BlockRows(_workBudgetBytes, rows, Count);
        if (_block.Length < (long)rows * blockRows) _block = new float[(long)rows * blockRows];
        int m = Math.Max(Options.Candidates, k);
        bool refine = bank.RefinedDim > bank.CoarseDim;

        for (long b0 = 0; b0 < Count; b0 += blockRows)
        {
            int bn = (int)Math.Min(blockRows, Count - b0);
            // [rows, d] . [bn, d]^T -> [rows, bn], scaled by -2: the cross term of ||p_q - p_y||^2
            long gemmStart = Stopwatch.GetTimestamp();
            NativeLinearAlgebra.MultiplyTransposed(projected.Coarse, bank.Bank.Coarse.AsSpan((int)(b0 * d), bn * d), _block, rows, bn, d, alpha: -2f);
            long rowsStart = Stopwatch.GetTimestamp();
            _times.Gemm += Stopwatch.GetElapsedTime(gemmStart, rowsStart);
            float[] block = _block;
            Parallel.ForEach(Partitioner.Create(0, rows, Math.Max(1, rows / (4 * Environment.ProcessorCount))), range =>
            {
                Span<int> positions = stackalloc int[m];
                Span<float> smallest = stackalloc float[m];
                for (int i = range.Item1; i < range.Item2; i++)
                {
                    Span<float> bounds = block.AsSpan(i * bn, bn);
                    // The shortlist only seeds the pruning threshold: once a row has its k, later blocks need none.
                    int shortlist = ProjectedBank.LowerBoundsAndSmallest(bounds, projected.CoarseNorms[i], projected.CoarseResiduals[i],
                        bank.Bank.CoarseNorms.AsSpan((int)b0, bn), bank.Bank.CoarseResiduals.AsSpan((int)b0, bn), found[i] < k ? m : 0, positions, smallest);
                    var row = new RowSearch(query.AsSpan(i * dim, dim), Vectors, dim, b0, k, bestD.AsSpan(i * k, k), bestL.AsSpan(i * k, k), found[i]);
                    for (int c = 0; c < shortlist; c++) row.Check(positions[c]);
                    row.CheckSurvivors(bounds, bank.Slack(projected, i), positions[..shortlist], refine ? (bank, projected, i) : null);
                    found[i] = row.Found;
                    exactCounts[i] += row.ExactCount;
                    refinedCounts[i] += row.RefinedCount;
                }
            });
            _times.Rows += Stopwatch.GetElapsedTime(rowsStart);
        }
        bestD.CopyTo(distances);
        bestL.CopyTo(labels);
        _exact += exactCounts.Sum();
        _refined += refinedCounts.Sum();
    }

    /// <summary>One query's k best against one bank block: exact distances and the survivor scan.</summary>
    private ref struct RowSearch
    {
        private readonly ReadOnlySpan<float> _query;
        private readonly float[] _vectors;
        private readonly int _dimension;
        private readonly long _blockStart;
        private readonly int _k;
        private readonly Span<float> _bestD;
        private readonly Span<long> _bestL;

        public RowSearch(ReadOnlySpan<float> query, float[] vectors, int dimension, long blockStart, int k, Span<float> bestD, Span<long> bestL, int found)
        {
            _query = query;
            _vectors = vectors;
            _dimension = dimension;
            _blockStart = blockStart;
            _k = k;
            _bestD = bestD;
            _bestL = bestL;
            Found = found;
        }

        public int Found;
        public long ExactCount;
        public long RefinedCount;

        /// <summary>Exact squared distance to block row <paramref name="position"/>, kept if among the k best.</summary>
        public void Check(int position)
        {
            long label = _blockStart + position;
            float distance = ProjectedDistance.Distance(_query, _vectors.AsSpan((int)(label * _dimension), _dimension));
            ExactCount++;
            ProjectedBank.Insert(distance * distance, label, _k, ref Found, _bestL, _bestD);
        }

        /// <summary>Checks every row whose bound does not exceed the k-th best distance (plus slack), skipping those already checked.</summary>
        public void CheckSurvivors(ReadOnlySpan<float> bounds, float slack, scoped ReadOnlySpan<int> done, (ProjectedBank Bank, ProjectedRows Queries, int Row)? refine)
        {
            float limit = Limit(slack);
            int n = bounds.Length, j = 0;
            ref float br = ref MemoryMarshal.GetReference(bounds);
            if (Vector256.IsHardwareAccelerated)
            {
                for (; j + 8 <= n; j += 8)
                {
                    uint hits = Vector256.LessThanOrEqual(Vector256.LoadUnsafe(ref br, (nuint)j), Vector256.Create(limit)).ExtractMostSignificantBits();
                    while (hits != 0)
                    {
                        int at = j + BitOperations.TrailingZeroCount(hits);
                        hits &= hits - 1;
                        if (bounds[at] > limit || done.Contains(at) || RefinedRulesOut(refine, at, limit)) continue;
                        Check(at);
                        limit = Limit(slack);
                    }
                }
            }
            for (; j < n; j++)
            {
                if (bounds[j] > limit || done.Contains(j) || RefinedRulesOut(refine, j, limit)) continue;
                Check(j);
                limit = Limit(slack);
            }
        }

        /// <summary>Whether the refined bound of block row <paramref name="position"/> already exceeds the limit.</summary>
        private bool RefinedRulesOut((ProjectedBank Bank, ProjectedRows Queries, int Row)? refine, int position, float limit)
        {
            if (refine is not { } r) return false;
            RefinedCount++;
            return r.Bank.RefinedBound(r.Queries, r.Row, _blockStart + position) > limit;
        }

        private readonly float Limit(float slack) => Found < _k ? float.PositiveInfinity : _bestD[_k - 1] + slack;
    }
}
