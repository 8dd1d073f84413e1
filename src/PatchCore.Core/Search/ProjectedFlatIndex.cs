using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.Intrinsics;
using PatchCore.Core.Sampling;
using PatchCore.Core.Native;

namespace PatchCore.Core.Search;

/// <summary>
/// Exact k-nearest-neighbour search that skips most of the arithmetic. The bank's rows are projected onto their first
/// principal components (<see cref="ProjectedBank"/>) and split into k-means lists there (<see cref="ListedBank"/>).
/// Queries are searched in groups of <see cref="GroupRows"/> consecutive rows (neighbouring patches of one image, which
/// mostly need the same lists). Each query first scans the list with the nearest centroid, its rows in ascending
/// order of their coarse bound, which sets its pruning limit (the k-th best exact distance); the group then visits the
/// other lists in ascending order of their smallest ball bound, and for every query whose limit the ball bound does
/// not exceed, computes the coarse bounds of the list's rows 16 at a time; a row the coarse bound lets through gets
/// the refined bound, and a row that passes both an exact distance. Everything skipped has a lower bound above the
/// limit (within a slack for rounding, <see cref="ProjectedBank.SlackRelative"/>), so the result is the exhaustive
/// search's, with distances computed directly as sums of squared differences (FAISS Flat computes them as
/// ||x||^2 - 2xy + ||y||^2). The lists only decide the speed.
///
/// The bank's vectors are held as given (an array passed to <see cref="Over"/> is shared, not copied). The projection
/// and lists are fitted at the first search after vectors are added (<see cref="ProjectedIndexBase"/>). Distances are
/// squared L2. Calls are serialised.
/// </summary>
internal sealed class ProjectedFlatIndex : ProjectedIndexBase
{
    /// <summary>Queries searched together; at most 32 (a bit mask of them is a uint).</summary>
    internal const int GroupRows = 16;

    private ListedBank? _listed;
    private ProjectedRows? _queryProjection;
    private float[] _crossTerms = [];
    private long _exact, _refined;
    private (TimeSpan Projection, TimeSpan Gemm, TimeSpan Rows) _times;

    public ProjectedFlatIndex(int dimension, ProjectedSearchOptions? options = null)
        : base(dimension)
    {
        options ??= ProjectedSearchOptions.ExactDefault;
        options.Validate();
        Options = options;
    }

    /// <summary>An index over <paramref name="vectors"/> [n, dimension], sharing the array (it must not change afterwards).</summary>
    public static ProjectedFlatIndex Over(float[] vectors, int dimension, ProjectedSearchOptions? options = null)
    {
        var index = new ProjectedFlatIndex(dimension, options);
        index.Share(vectors);
        return index;
    }

    public ProjectedSearchOptions Options { get; }

    /// <summary>Share of the bank's variance the projection keeps (NaN before the first search).</summary>
    public double ExplainedVariance => _listed?.Projection.ExplainedVariance ?? double.NaN;

    /// <summary>Lists the bank is split into (0 before the first search).</summary>
    public int ListCount => _listed?.ListCount ?? 0;

    /// <summary>Exact distances computed per query in the last search (the rest were pruned by their bounds).</summary>
    public double ExactDistancesPerQuery { get; private set; }

    /// <summary>Refined bounds computed per query in the last search.</summary>
    public double RefinedBoundsPerQuery { get; private set; }

    /// <summary>Where the last search spent its time: projecting the queries, the sgemm against the list centroids, and the list scans (bounds and exact distances).</summary>
    public (TimeSpan Projection, TimeSpan Gemm, TimeSpan Rows) LastTimes { get; private set; }

    private protected override void EnsureFit() =>
        _listed ??= ListedBank.Build(ProjectedBank.Fit(Vectors, (int)Count, Dimension, Options.ProjectionDim, Options.RefinedDim, Options.SampleRows),
            Options.ListsFor(Count), Options.Seed);

    private protected override void DropFit()
    {
        _listed = null;
        _queryProjection = null;
        _crossTerms = [];
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

    // Orchestration of one query chunk: project the queries, one sgemm against the centroids, then the groups in parallel.
    private protected override void SearchChunk(float[] query, int rows, int k, Span<float> distances, Span<long> labels)
    {
        ListedBank listed = _listed!;
        int lists = listed.ListCount;
        long start = Stopwatch.GetTimestamp();
        ProjectedRows projected = _queryProjection = listed.Projection.Project(query.AsSpan(0, rows * Dimension), rows, reuse: _queryProjection);
        long gemmStart = Stopwatch.GetTimestamp();
        _times.Projection += Stopwatch.GetElapsedTime(start, gemmStart);
        if (_crossTerms.Length < rows * lists) _crossTerms = new float[rows * lists];
        // [rows, d1] . [L, d1]^T -> [rows, L], scaled by -2: the cross term of ||p_q - mu_c||^2
        NativeLinearAlgebra.MultiplyTransposed(projected.Coarse, listed.Centroids, _crossTerms, rows, lists, listed.Projection.CoarseDim, alpha: -2f);
        long rowsStart = Stopwatch.GetTimestamp();
        _times.Gemm += Stopwatch.GetElapsedTime(gemmStart, rowsStart);

        float[] bestD = distances.ToArray();   // [rows, k], ascending per row
        long[] bestL = labels.ToArray();
        var chunk = new Chunk(listed, projected, _crossTerms, query, Vectors, Dimension, k, bestD, bestL);
        int groups = (rows + GroupRows - 1) / GroupRows;
        long exact = 0, refined = 0;
        Parallel.ForEach(Partitioner.Create(0, groups, Math.Max(1, groups / (4 * Environment.ProcessorCount))),
            () => new GroupSearch(chunk),
            (range, _, search) =>
            {
                for (int g = range.Item1; g < range.Item2; g++) search.Run(g * GroupRows, Math.Min(GroupRows, rows - g * GroupRows));
                return search;
            },
            search =>
            {
                Interlocked.Add(ref exact, search.ExactCount);
                Interlocked.Add(ref refined, search.RefinedCount);
            });
        _times.Rows += Stopwatch.GetElapsedTime(rowsStart);
        bestD.CopyTo(distances);
        bestL.CopyTo(labels);
        _exact += exact;
        _refined += refined;
    }

    /// <summary>What every group of one chunk reads: the lists, the projected queries and their cross terms [rows, L], the raw rows, and the results [rows, k] it writes.</summary>
    private sealed record Chunk(ListedBank Listed, ProjectedRows Queries, float[] CrossTerms, float[] Query, float[] Vectors, int Dimension, int K, float[] BestD, long[] BestL);

    /// <summary>One thread's search of groups of queries, with its scratch buffers.</summary>
    private sealed class GroupSearch
    {
        private readonly Chunk _c;
        private readonly int _lists, _coarseDim;
        private readonly float[] _balls;      // [GroupRows, L]: ball bound of each list for each query of the group
        private readonly float[] _listKeys;   // [L]: smallest ball bound over the group, sorted with _listOrder
        private readonly int[] _listOrder;    // [L]
        private readonly float[] _seedBounds; // [longest list]: coarse bounds of a query's seed list, sorted with _seedSlots
        private readonly int[] _seedSlots;
        private readonly float[] _lanes = new float[ListedBank.PanelRows];
        private readonly int[] _found = new int[GroupRows];
        private readonly int[] _seeds = new int[GroupRows];
        private readonly float[] _slack = new float[GroupRows];
        private int _first;

        public GroupSearch(Chunk chunk)
        {
            _c = chunk;
            _lists = chunk.Listed.ListCount;
            _coarseDim = chunk.Listed.Projection.CoarseDim;
            _balls = new float[GroupRows * _lists];
            _listKeys = new float[_lists];
            _listOrder = new int[_lists];
            int longest = chunk.Listed.MaxListSlots;
            _seedBounds = new float[longest];
            _seedSlots = new int[longest];
        }

        public long ExactCount;
        public long RefinedCount;

        /// <summary>Searches query rows first .. first + count (count at most <see cref="GroupRows"/>).</summary>
        public void Run(int first, int count)
        {
            ListedBank listed = _c.Listed;
            ProjectedRows q = _c.Queries;
            _first = first;
            for (int g = 0; g < count; g++)
            {
                int i = first + g;
                _found[g] = 0;
                _slack[g] = listed.Projection.Slack(q, i);
                ReadOnlySpan<float> cross = _c.CrossTerms.AsSpan(i * _lists, _lists);
                Span<float> balls = _balls.AsSpan(g * _lists, _lists);
                int seed = -1;
                float nearest = float.PositiveInfinity;
                for (int c = 0; c < _lists; c++)
                {
                    balls[c] = listed.BallBound(c, cross[c], q.CoarseNorms[i], q.CoarseResiduals[i]);
                    float centre = cross[c] + listed.CentroidNorms[c];
                    if (listed.Rows[c] > 0 && centre < nearest) (seed, nearest) = (c, centre);
                }
                _seeds[g] = seed;
                SearchSeed(g, seed);
            }

            // The other lists, nearest first for the group as a whole.
            for (int c = 0; c < _lists; c++)
            {
                float smallest = float.PositiveInfinity;
                for (int g = 0; g < count; g++) smallest = MathF.Min(smallest, _balls[g * _lists + c]);
                _listKeys[c] = smallest;
                _listOrder[c] = c;
            }
            _listKeys.AsSpan().Sort(_listOrder.AsSpan());
            for (int t = 0; t < _lists; t++)
            {
                int list = _listOrder[t];
                float widest = float.NegativeInfinity;
                uint wanting = 0;
                for (int g = 0; g < count; g++)
                {
                    float limit = Limit(g);
                    widest = MathF.Max(widest, limit);
                    if (_seeds[g] != list && _balls[g * _lists + list] <= limit) wanting |= 1u << g;
                }
                // Sorted: no later list can have a ball bound within any query's limit, and limits only shrink.
                if (_listKeys[t] > widest) break;
                if (wanting != 0) SearchList(list, wanting);
            }
        }

        /// <summary>Group query <paramref name="g"/>'s first list: every row in ascending bound order until a bound exceeds the limit.</summary>
        private void SearchSeed(int g, int list)
        {
            ListedBank listed = _c.Listed;
            ProjectedRows q = _c.Queries;
            int i = _first + g;
            ReadOnlySpan<float> coarse = q.Coarse.AsSpan(i * _coarseDim, _coarseDim);
            int n = 0;
            for (int panel = listed.PanelStarts[list]; panel < listed.PanelStarts[list + 1]; panel++)
            {
                listed.PanelBounds(coarse, q.CoarseNorms[i], q.CoarseResiduals[i], panel).CopyTo(_lanes);
                uint valid = listed.ValidLanes(list, panel);
                while (valid != 0)
                {
                    int lane = BitOperations.TrailingZeroCount(valid);
                    valid &= valid - 1;
                    _seedBounds[n] = _lanes[lane];
                    _seedSlots[n++] = panel * ListedBank.PanelRows + lane;
                }
            }
            _seedBounds.AsSpan(0, n).Sort(_seedSlots.AsSpan(0, n));
            for (int t = 0; t < n && _seedBounds[t] <= Limit(g); t++) Check(g, _seedSlots[t]);
        }

        /// <summary>One list for the group queries in the mask <paramref name="wanting"/>, panel by panel (each panel read once for all of them).</summary>
        private void SearchList(int list, uint wanting)
        {
            ListedBank listed = _c.Listed;
            ProjectedRows q = _c.Queries;
            for (int panel = listed.PanelStarts[list]; panel < listed.PanelStarts[list + 1]; panel++)
            {
                uint valid = listed.ValidLanes(list, panel);
                for (uint left = wanting; left != 0; left &= left - 1)
                {
                    int g = BitOperations.TrailingZeroCount(left);
                    float limit = Limit(g);
                    if (_balls[g * _lists + list] > limit) continue;   // the limit shrank since the list was chosen
                    int i = _first + g;
                    var bounds = listed.PanelBounds(q.Coarse.AsSpan(i * _coarseDim, _coarseDim), q.CoarseNorms[i], q.CoarseResiduals[i], panel);
                    uint hits = (uint)Vector512.LessThanOrEqual(bounds, Vector512.Create(limit)).ExtractMostSignificantBits() & valid;
                    while (hits != 0)
                    {
                        int lane = BitOperations.TrailingZeroCount(hits);
                        hits &= hits - 1;
                        if (bounds.GetElement(lane) <= Limit(g)) Check(g, panel * ListedBank.PanelRows + lane);
                    }
                }
            }
        }

        /// <summary>A slot the coarse bound let through: the refined bound (once the query has k), then the exact distance.</summary>
        private void Check(int g, int slot)
        {
            ListedBank listed = _c.Listed;
            int i = _first + g, k = _c.K, dim = _c.Dimension;
            if (_found[g] == k && listed.HasRefined)
            {
                RefinedCount++;
                if (listed.RefinedBound(_c.Queries, i, slot) > Limit(g)) return;
            }
            long row = listed.Members[slot];
            float distance = ProjectedDistance.Distance(_c.Query.AsSpan(i * dim, dim), _c.Vectors.AsSpan((int)(row * dim), dim));
            ExactCount++;
            ProjectedBank.Insert(distance * distance, row, k, ref _found[g], _c.BestL.AsSpan(i * k, k), _c.BestD.AsSpan(i * k, k));
        }

        /// <summary>Group query g's pruning limit: its k-th best distance plus the slack, or infinity before it has k.</summary>
        private float Limit(int g) => _found[g] < _c.K ? float.PositiveInfinity : _c.BestD[(_first + g) * _c.K + _c.K - 1] + _slack[g];
    }
}
