using System.Collections.Concurrent;
using PatchCore.Core.Sampling;
using PatchCore.Core.Native;

namespace PatchCore.Core.Search;

/// <summary>
/// Approximate k-nearest-neighbour search: the bank's rows are projected onto their first principal components and
/// split into k-means lists there (an inverted file, as FAISS's IVF, but scanned with SIMD in the projection); a query
/// scans the <see cref="ProjectedIvfOptions.Probes"/> lists with the nearest centroids, ranks their rows by the lower
/// bound of <see cref="ProjectedBank"/>, and re-ranks the best-ranked <see cref="ProjectedIvfOptions.Candidates"/>
/// exactly (skipping, as the exact search does, those whose bounds show they cannot win). A reported distance is always a true distance to the reported
/// row, so a miss can only make a patch score larger, never smaller. Distances are squared L2. Calls are serialised.
/// </summary>
internal sealed class ProjectedIvfIndex : ProjectedIndexBase
{
    private Lists? _lists;
    private ProjectedRows? _queryProjection;
    private float[] _centroidScores = [];
    private long _exact, _scanned;

    public ProjectedIvfIndex(int dimension, ProjectedIvfOptions? options = null)
        : base(dimension)
    {
        options ??= ProjectedIvfOptions.Default;
        options.Validate();
        Options = options;
    }

    /// <summary>An index over <paramref name="vectors"/> [n, dimension], sharing the array (it must not change afterwards).</summary>
    public static ProjectedIvfIndex Over(float[] vectors, int dimension, ProjectedIvfOptions? options = null)
    {
        var index = new ProjectedIvfIndex(dimension, options);
        index.Share(vectors);
        return index;
    }

    public ProjectedIvfOptions Options { get; }

    /// <summary>Lists the bank is split into (0 before the first search).</summary>
    public int ListCount => _lists?.CentroidNorms.Length ?? 0;

    /// <summary>Rows whose bound was computed, per query, in the last search.</summary>
    public double ScannedPerQuery { get; private set; }

    /// <summary>Exact distances computed per query in the last search.</summary>
    public double ExactDistancesPerQuery { get; private set; }

    private protected override void EnsureFit() => _lists ??= Lists.Build(Vectors, (int)Count, Dimension, Options);

    private protected override void DropFit()
    {
        _lists = null;
        _queryProjection = null;
        _centroidScores = [];
    }

    private protected override void BeginSearch() => _exact = _scanned = 0;

    private protected override void EndSearch(long queries)
    {
        ScannedPerQuery = (double)_scanned / queries;
        ExactDistancesPerQuery = (double)_exact / queries;
    }

    // Orchestration of one query chunk: project, pick lists (one sgemm against the centroids), scan, re-rank.
    private protected override void SearchChunk(float[] query, int rows, int k, Span<float> distances, Span<long> labels)
    {
        Lists lists = _lists!;
        var projection = lists.Projection;
        int d = projection.CoarseDim, dim = Dimension, listCount = lists.CentroidNorms.Length;
        ProjectedRows q = _queryProjection = projection.Project(query.AsSpan(0, rows * dim), rows, reuse: _queryProjection);
        if (_centroidScores.Length < rows * listCount) _centroidScores = new float[rows * listCount];
        float[] centroidScores = _centroidScores;
        // [rows, d] . [L, d]^T -> [rows, L]: -2 p_q . c, plus ||c||^2 below, ranks the centroids by distance
        NativeLinearAlgebra.MultiplyTransposed(q.Coarse, lists.Centroids, centroidScores, rows, listCount, d, alpha: -2f);
        float[] bestD = distances.ToArray();
        long[] bestL = labels.ToArray();
        var scannedCounts = new long[rows];
        var exactCounts = new long[rows];
        int probes = Math.Min(Options.Probes, listCount);
        int m = Math.Max(Options.Candidates, k);
        Parallel.ForEach(Partitioner.Create(0, rows, Math.Max(1, rows / (4 * Environment.ProcessorCount))), range =>
        {
            Span<int> probeLists = stackalloc int[probes];
            Span<float> probeScores = stackalloc float[probes];
            Span<long> shortlist = stackalloc long[m];
            Span<float> shortBounds = stackalloc float[m];
            bool refine = projection.RefinedDim > projection.CoarseDim;
            for (int i = range.Item1; i < range.Item2; i++)
            {
                Span<float> scores = centroidScores.AsSpan(i * listCount, listCount);
                int picked = 0;
                for (int c = 0; c < listCount; c++)
                    ProjectedBank.Insert(scores[c] + lists.CentroidNorms[c], c, probes, ref picked, probeLists, probeScores);

                ReadOnlySpan<float> pq = q.Coarse.AsSpan(i * d, d);
                float rq = q.CoarseResiduals[i];
                int listed = 0;
                for (int p = 0; p < picked; p++)
                {
                    int list = probeLists[p];
                    for (int at = lists.Starts[list]; at < lists.Starts[list + 1]; at++)
                    {
                        float bound = ProjectedBank.Bound(pq, rq, lists.Coordinates.AsSpan(at * d, d), lists.Residuals[at]);
                        ProjectedBank.Insert(bound, lists.Members[at], m, ref listed, shortlist, shortBounds);
                    }
                    scannedCounts[i] += lists.Starts[list + 1] - lists.Starts[list];
                }

                // Exact re-rank of the shortlist, in ascending bound order: once a bound reaches the k-th best exact
                // distance, no later candidate can enter the k best.
                Span<float> rowD = bestD.AsSpan(i * k, k);
                Span<long> rowL = bestL.AsSpan(i * k, k);
                int found = 0;
                ReadOnlySpan<float> x = query.AsSpan(i * dim, dim);
                float slack = projection.Slack(q, i);
                for (int c = 0; c < listed; c++)
                {
                    if (found == k && shortBounds[c] > rowD[k - 1] + slack) break;
                    long label = shortlist[c];
                    if (found == k && refine && projection.RefinedBound(q, i, label) > rowD[k - 1] + slack) continue;
                    float distance = ProjectedDistance.Distance(x, Vectors.AsSpan((int)(label * dim), dim));
                    exactCounts[i]++;
                    ProjectedBank.Insert(distance * distance, label, k, ref found, rowL, rowD);
                }
            }
        });
        bestD.CopyTo(distances);
        bestL.CopyTo(labels);
        _exact += exactCounts.Sum();
        _scanned += scannedCounts.Sum();
    }

    /// <summary>The inverted lists: projection, centroids, and the rows' projected coordinates grouped by list.</summary>
    private sealed record Lists(ProjectedBank Projection, float[] Centroids, float[] CentroidNorms, int[] Starts, long[] Members, float[] Coordinates, float[] Residuals)
    {
        public static Lists Build(float[] vectors, int n, int dimension, ProjectedIvfOptions options)
        {
            var projection = ProjectedBank.Fit(vectors, n, dimension, options.ProjectionDim, options.RefinedDim, options.SampleRows);
            int d = projection.CoarseDim;
            ProjectedRows bank = projection.Bank;
            var lists = CoarseLists.Build(bank.Coarse, n, d, options.ListsFor(n), options.Seed);
            var members = new long[n];
            var coordinates = new float[(long)n * d];
            var residuals = new float[n];
            for (int at = 0; at < n; at++)
            {
                int r = lists.Order[at];
                members[at] = r;
                bank.Coarse.AsSpan(r * d, d).CopyTo(coordinates.AsSpan(at * d, d));
                residuals[at] = bank.CoarseResiduals[r];
            }
            projection.ForgetCoarseRows();   // the coarse rows now live in list order; the refined ones stay in bank order
            return new Lists(projection, lists.Centroids, lists.CentroidNorms, lists.Starts, members, coordinates, residuals);
        }
    }
}
