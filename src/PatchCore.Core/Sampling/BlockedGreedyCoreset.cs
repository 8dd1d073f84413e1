using System.Runtime.CompilerServices;

namespace PatchCore.Core.Sampling;

/// <summary>
/// Exact fast version of <see cref="PlainGreedyCoreset"/>: the same selections, bit for bit, with far fewer
/// distance evaluations and cache-friendly memory access.
/// <list type="bullet">
/// <item>Points are grouped into spatially compact blocks of ~512 (two-level nearest-anchor assignment), each
/// with a pivot (its cluster centroid), every member's distance to the pivot, and the annulus [RMin, RMax]
/// those distances span. Members are stored contiguously.</item>
/// <item>Blocks are updated lazily: a block keeps the number of centres already applied to it and the max of its
/// m values, which stays an upper bound while centres are pending because m only decreases. A tournament tree
/// over blocks gives the block with the largest bound; if it is stale its pending centres are applied and the
/// tree re-checked, else its max is the global argmax. Pending centres are applied in a batch, so each block is
/// read once for many centres.</item>
/// <item>Applying a centre c to a block prunes with the triangle inequality: no member changes when
/// d(pivot, c) lies outside [RMin - maxM, RMax + maxM]; member x needs d(x, c) only when
/// |d(pivot, c) - d(x, pivot)| &lt; m(x), found by binary search over the block's active centres sorted by
/// d(pivot, c). Three extra pivots per block (spread-out members) add the same annulus test on their own
/// distances before a full 128-D distance is computed. A pruned pair has d(x, c) &gt;= m(x), so min(m, d) = m:
/// the result is the plain loop's. A relative slack of 1e-4 covers float rounding in the bounds.</item>
/// <item>The same loop serves a build (m starts at the mean distance to random start points) and a bank update (m
/// starts at each new candidate's distance to its nearest bank vector, and the loop stops once the largest m is within
/// the bank's coverage radius): only the start values and the stop differ.</item>
/// </list>
/// Ties (equal m) go to the lowest original index: a block's stale (bound, argmax) pair orders soundly because its
/// true argmax among equal values can only have a higher index than the stale one.
/// </summary>
internal sealed class BlockedGreedyCoreset
{
    internal const int DefaultBlockSize = 512;
    /// <summary>Extra pivots per block (spread-out members); each adds an annulus test before a full distance.
    /// <see cref="UpdateMembers"/> unrolls the test for exactly three.</summary>
    private const int Extra = 3;
    private const float Slack = 1e-4f;
    private const long ParallelPairs = 1L << 15;

    private struct Block
    {
        public int Start, Length, Synced, ArgPos, ArgOrig;
        public float RMin, RMax, Max;
    }

    private readonly int _n, _dim;
    private readonly float[] _y;       // [N, P] rows in block order
    private readonly float[] _m;       // [N] min distance in block order; -1 once selected
    private readonly float[] _dPivot;  // [N] distance of each row to its block's pivot
    private readonly int[] _orig;      // [N] block order -> original index
    private readonly float[] _pivots;  // [B, P]
    private readonly float[] _extraPivots; // [B, Extra, P]
    private readonly float[] _dExtra;  // [N, Extra] distance of each row to its block's extra pivots
    private readonly float[] _extraRange; // [B, Extra, 2] min and max of those distances over the block
    private readonly Block[] _blocks;
    private float[] _activeExtra = [];  // [active, Extra] scratch: active centres' distances to the extra pivots
    private readonly int _workers = Math.Max(1, Environment.ProcessorCount);

    private BlockedGreedyCoreset(int n, int dim, float[] y, float[] dPivot, int[] orig, float[] pivots, Block[] blocks,
        float[] extraPivots, float[] dExtra, float[] extraRange)
    {
        _n = n; _dim = dim; _y = y; _dPivot = dPivot; _orig = orig; _pivots = pivots; _blocks = blocks;
        _extraPivots = extraPivots; _dExtra = dExtra; _extraRange = extraRange;
        _m = new float[n];
    }

    /// <summary>
    /// The selection from <paramref name="initialM"/> [N] (<see cref="GreedyStart"/>): the plain loop's, bit for bit. At
    /// most <paramref name="count"/> points; with <paramref name="stopAt"/>, none once the largest m is at most that radius.
    /// </summary>
    public static (long[] Selected, float Largest) Select(float[] y, int n, int dim, int count, float[] initialM, float? stopAt, int seed,
        IProgress<double>? progress, CancellationToken ct, int blockSize = DefaultBlockSize) =>
        Build(y, n, dim, seed, blockSize, ct).Run(initialM, count, stopAt, progress, ct);

    internal static BlockedGreedyCoreset Build(float[] y, int n, int dim, int seed, int blockSize, CancellationToken ct)
    {
        var random = new Random(unchecked(seed * 31 + 17));

        // Level 1: ~sqrt(N / blockSize) random anchors; every row to its nearest. (Layout only: any assignment is
        // correct, a compact one prunes better.)
        int k1 = Math.Clamp((int)Math.Round(Math.Sqrt((double)n / blockSize)), 1, n);
        int[] coarseAnchors = DistinctSample(random, n, k1);
        float[] coarseRows = PlainGreedyCoreset.GatherRows(y, dim, coarseAnchors);
        var coarse = new int[n];
        ParallelRows(n, i => coarse[i] = Nearest(y, i, dim, coarseRows, 0, k1));
        ct.ThrowIfCancellationRequested();
        var (coarseStart, byCoarse) = GroupBy(coarse, k1);

        // Level 2: within each coarse cluster, ceil(size / blockSize) anchors drawn from its members.
        var subStart = new int[k1 + 1];
        for (int c = 0; c < k1; c++)
            subStart[c + 1] = subStart[c] + (coarseStart[c + 1] - coarseStart[c] + blockSize - 1) / blockSize;
        int k2 = subStart[k1];
        var subRows = new float[(long)k2 * dim];
        for (int c = 0; c < k1; c++)
        {
            int size = coarseStart[c + 1] - coarseStart[c];
            int[] pick = DistinctSample(random, size, subStart[c + 1] - subStart[c]);
            for (int j = 0; j < pick.Length; j++)
                y.AsSpan(byCoarse[coarseStart[c] + pick[j]] * dim, dim).CopyTo(subRows.AsSpan((subStart[c] + j) * dim, dim));
        }
        var fine = new int[n];
        ParallelRows(n, i => fine[i] = subStart[coarse[i]] + Nearest(y, i, dim, subRows, subStart[coarse[i]], subStart[coarse[i] + 1] - subStart[coarse[i]]));
        ct.ThrowIfCancellationRequested();
        var (fineStart, byFine) = GroupBy(fine, k2);

        // Blocks: one per fine cluster, or annuli of blockSize rows (by distance to the centroid) for big ones.
        var blockStart = new int[k2 + 1];
        for (int f = 0; f < k2; f++)
        {
            int size = fineStart[f + 1] - fineStart[f];
            blockStart[f + 1] = blockStart[f] + (size == 0 ? 0 : size <= 2 * blockSize ? 1 : (size + blockSize - 1) / blockSize);
        }
        int blockCount = blockStart[k2];
        var blocks = new Block[blockCount];
        var pivots = new float[(long)blockCount * dim];
        var yOrdered = new float[(long)n * dim];
        var dPivot = new float[n];
        var orig = new int[n];
        Parallel.For(0, k2, f =>
        {
            int first = fineStart[f], size = fineStart[f + 1] - first;
            if (size == 0) return;
            var centroid = new double[dim];
            for (int r = first; r < first + size; r++)
            {
                var row = y.AsSpan(byFine[r] * dim, dim);
                for (int k = 0; k < dim; k++) centroid[k] += row[k];
            }
            var pivot = new float[dim];
            for (int k = 0; k < dim; k++) pivot[k] = (float)(centroid[k] / size);
            var members = byFine.AsSpan(first, size).ToArray();
            var dist = new float[size];
            for (int r = 0; r < size; r++)
                dist[r] = ProjectedDistance.Distance(y.AsSpan(members[r] * dim, dim), pivot);
            int pieces = blockStart[f + 1] - blockStart[f];
            if (pieces > 1)
                Array.Sort(dist, members);
            for (int r = 0; r < size; r++)
            {
                orig[first + r] = members[r];
                dPivot[first + r] = dist[r];
                y.AsSpan(members[r] * dim, dim).CopyTo(yOrdered.AsSpan((first + r) * dim, dim));
            }
            for (int piece = 0; piece < pieces; piece++)
            {
                int b = blockStart[f] + piece;
                int start = first + (int)((long)size * piece / pieces), end = first + (int)((long)size * (piece + 1) / pieces);
                float rMin = float.MaxValue, rMax = 0f;
                for (int p = start; p < end; p++) { rMin = Math.Min(rMin, dPivot[p]); rMax = Math.Max(rMax, dPivot[p]); }
                blocks[b] = new Block { Start = start, Length = end - start, RMin = rMin, RMax = rMax };
                pivot.CopyTo(pivots.AsSpan(b * dim, dim));
            }
        });
        var extraPivots = new float[(long)blockCount * Extra * dim];
        var dExtra = new float[(long)n * Extra];
        var extraRange = new float[blockCount * Extra * 2];
        Parallel.For(0, blockCount, b => ChooseExtraPivots(yOrdered, dim, blocks[b], dPivot,
            extraPivots.AsSpan(b * Extra * dim, Extra * dim), dExtra, extraRange.AsSpan(b * Extra * 2, Extra * 2)));
        return new BlockedGreedyCoreset(n, dim, yOrdered, dPivot, orig, pivots, blocks, extraPivots, dExtra, extraRange);
    }

    /// <summary>
    /// Extra pivots: the member farthest from the centroid, the member farthest from that one, then the member
    /// farthest from both (spread-out pivots bound a point from several sides), and every member's distances to them.
    /// </summary>
    private static void ChooseExtraPivots(float[] y, int dim, Block block, float[] dPivot, Span<float> pivots, float[] dExtra, Span<float> range)
    {
        int start = block.Start, end = block.Start + block.Length;
        var nearest = new float[block.Length];
        Array.Fill(nearest, float.MaxValue);
        int chosen = start;
        for (int p = start; p < end; p++)
            if (dPivot[p] > dPivot[chosen]) chosen = p;
        for (int j = 0; j < Extra; j++)
        {
            y.AsSpan(chosen * dim, dim).CopyTo(pivots.Slice(j * dim, dim));
            float lo = float.MaxValue, hi = 0f;
            int next = start;
            for (int p = start; p < end; p++)
            {
                float d = ProjectedDistance.Distance(y.AsSpan(p * dim, dim), pivots.Slice(j * dim, dim));
                dExtra[p * Extra + j] = d;
                lo = Math.Min(lo, d);
                hi = Math.Max(hi, d);
                nearest[p - start] = Math.Min(nearest[p - start], d);
                if (nearest[p - start] > nearest[next - start]) next = p;
            }
            range[2 * j] = lo;
            range[2 * j + 1] = hi;
            chosen = next;
        }
    }

    /// <summary>
    /// The greedy from m = <paramref name="initialM"/> (original order): up to <paramref name="count"/> steps, stopping
    /// early once the largest m is at most <paramref name="stopAt"/>. Returns the selection (original indices) and the
    /// largest m after the last centre (0 when every point is selected).
    /// </summary>
    internal (long[] Selected, float Largest) Run(float[] initialM, int count, float? stopAt, IProgress<double>? progress, CancellationToken ct)
    {
        ParallelRows(_n, p => _m[p] = initialM[_orig[p]]);
        var tree = new BlockTree(_blocks.Length);
        for (int b = 0; b < _blocks.Length; b++)
        {
            RecomputeMax(ref _blocks[b]);
            tree.Set(b, _blocks[b].Max, _blocks[b].ArgOrig);
        }

        // Centre rows grow as they are chosen (with a stop radius the count is only a cap), so memory follows the selection.
        int capacity = Math.Min(count, 4096);
        var centers = new float[(long)capacity * _dim];
        var pendingDistance = new float[capacity];
        var pendingId = new int[capacity];
        var selected = new long[capacity];
        var reporter = new ProgressReporter(progress, count, stopAt);
        int t = 0;
        for (; t < count; t++)
        {
            ct.ThrowIfCancellationRequested();
            int top = SyncTop(tree, t, centers, pendingDistance, pendingId);
            ref Block block = ref _blocks[top];
            if (stopAt is float radius && block.Max <= radius) break;
            if (t == capacity)
            {
                capacity = (int)Math.Min(count, 2L * capacity);
                Array.Resize(ref centers, capacity * _dim);
                Array.Resize(ref pendingDistance, capacity);
                Array.Resize(ref pendingId, capacity);
                Array.Resize(ref selected, capacity);
            }
            float value = block.Max;
            int pos = block.ArgPos;
            selected[t] = _orig[pos];
            _y.AsSpan(pos * _dim, _dim).CopyTo(centers.AsSpan(t * _dim, _dim));
            _m[pos] = -1f;
            RecomputeMax(ref block);
            tree.Set(top, block.Max, block.ArgOrig);
            reporter.Step(t + 1, value);
        }
        int last = SyncTop(tree, t, centers, pendingDistance, pendingId);
        reporter.Done();
        return (selected[..t], Math.Max(0f, _blocks[last].Max));
    }

    /// <summary>The block holding the largest m once centres [0, t) are applied to it (stale blocks refreshed on the way).</summary>
    private int SyncTop(BlockTree tree, int t, float[] centers, float[] pendingDistance, int[] pendingId)
    {
        int top;
        while (_blocks[top = tree.Top].Synced < t)
        {
            Refresh(ref _blocks[top], top, t, centers, pendingDistance, pendingId);
            tree.Set(top, _blocks[top].Max, _blocks[top].ArgOrig);
        }
        return top;
    }

    /// <summary>Applies centres [block.Synced, t) to the block's members.</summary>
    private void Refresh(ref Block block, int b, int t, float[] centers, float[] pendingDistance, int[] pendingId)
    {
        int first = block.Synced;
        block.Synced = t;
        float maxM = block.Max;
        if (maxM <= 0f)
            return; // every member is selected or sits on a centre: min(m, d >= 0) keeps m

        int dim = _dim;
        ref float pivot = ref _pivots[b * dim];
        float slack = Slack * (block.RMax + maxM);
        float lo = block.RMin - maxM - slack, hi = block.RMax + maxM + slack;
        int active = 0;
        int k = first;
        for (; k + 4 <= t; k += 4)
        {
            ProjectedDistance.Distance4(ref pivot, ref centers[(long)k * dim], ref centers[(long)(k + 1) * dim],
                ref centers[(long)(k + 2) * dim], ref centers[(long)(k + 3) * dim], dim, out float d0, out float d1, out float d2, out float d3);
            if (d0 > lo && d0 < hi) { pendingDistance[active] = d0; pendingId[active++] = k; }
            if (d1 > lo && d1 < hi) { pendingDistance[active] = d1; pendingId[active++] = k + 1; }
            if (d2 > lo && d2 < hi) { pendingDistance[active] = d2; pendingId[active++] = k + 2; }
            if (d3 > lo && d3 < hi) { pendingDistance[active] = d3; pendingId[active++] = k + 3; }
        }
        for (; k < t; k++)
        {
            float d = ProjectedDistance.Distance(ref pivot, ref centers[(long)k * dim], dim);
            if (d > lo && d < hi) { pendingDistance[active] = d; pendingId[active++] = k; }
        }
        if (active == 0)
            return;

        Array.Sort(pendingDistance, pendingId, 0, active);
        active = FilterByExtraPivots(b, active, maxM, centers, pendingDistance, pendingId);
        if (active == 0)
            return;
        int start = block.Start, length = block.Length;
        if ((long)length * active >= ParallelPairs && _workers > 1 && length >= 2 * _workers)
        {
            int activeCount = active;
            Parallel.For(0, _workers, w =>
            {
                int s = start + (int)((long)length * w / _workers), e = start + (int)((long)length * (w + 1) / _workers);
                UpdateMembers(s, e, centers, pendingDistance, pendingId, activeCount);
            });
        }
        else
        {
            UpdateMembers(start, start + length, centers, pendingDistance, pendingId, active);
        }
        RecomputeMax(ref block);
    }

    /// <summary>
    /// Distances from the active centres to the block's extra pivots (into <see cref="_activeExtra"/>); drops the
    /// centres outside an extra pivot's annulus widened by the block's max m. Keeps the order (sorted by primary distance).
    /// </summary>
    private int FilterByExtraPivots(int b, int active, float maxM, float[] centers, float[] pivotDistance, int[] ids)
    {
        int dim = _dim;
        if (_activeExtra.Length < active * Extra)
            _activeExtra = new float[Math.Max(active * Extra, 2 * _activeExtra.Length)];
        ReadOnlySpan<float> range = _extraRange.AsSpan(b * Extra * 2, Extra * 2);
        int kept = 0;
        Span<float> d = stackalloc float[Extra];
        for (int a = 0; a < active; a++)
        {
            ref float c = ref centers[(long)ids[a] * dim];
            bool inside = true;
            for (int j = 0; j < Extra; j++)
            {
                d[j] = ProjectedDistance.Distance(ref _extraPivots[(b * Extra + j) * dim], ref c, dim);
                float slack = Slack * (range[2 * j + 1] + maxM);
                if (d[j] <= range[2 * j] - maxM - slack || d[j] >= range[2 * j + 1] + maxM + slack)
                    inside = false;
            }
            if (!inside) continue;
            pivotDistance[kept] = pivotDistance[a];
            ids[kept] = ids[a];
            d.CopyTo(_activeExtra.AsSpan(kept * Extra, Extra));
            kept++;
        }
        return kept;
    }

    /// <summary>Lowers m for rows [start, end) by the active centres (sorted by distance to the pivot).</summary>
    private void UpdateMembers(int start, int end, float[] centers, float[] pivotDistance, int[] ids, int active)
    {
        int dim = _dim;
        Span<int> batch = stackalloc int[4];
        float[] extra = _activeExtra;
        for (int p = start; p < end; p++)
        {
            float mi = _m[p];
            if (mi <= 0f) continue;
            float dp = _dPivot[p];
            float slack = Slack * (dp + mi);
            // Only centres with |d(pivot, c) - d(x, pivot)| < m(x) can lower m(x).
            int a = LowerBound(pivotDistance, active, dp - mi - slack);
            int z = LowerBound(pivotDistance, active, dp + mi + slack);
            ref float x = ref _y[(long)p * dim];
            ReadOnlySpan<float> dx = _dExtra.AsSpan(p * Extra, Extra);
            float limit0 = mi + Slack * (dx[0] + mi), limit1 = mi + Slack * (dx[1] + mi), limit2 = mi + Slack * (dx[2] + mi);
            int found = 0;
            for (int k = a; k < z; k++)
            {
                // The extra pivots' annuli: |d(c, q) - d(x, q)| < m(x) for each, or c cannot lower m(x).
                ref float e = ref extra[k * Extra];
                if (MathF.Abs(e - dx[0]) >= limit0 || MathF.Abs(Unsafe.Add(ref e, 1) - dx[1]) >= limit1 || MathF.Abs(Unsafe.Add(ref e, 2) - dx[2]) >= limit2)
                    continue;
                batch[found++] = ids[k];
                if (found == 4)
                {
                    ProjectedDistance.Distance4(ref x, ref centers[(long)batch[0] * dim], ref centers[(long)batch[1] * dim],
                        ref centers[(long)batch[2] * dim], ref centers[(long)batch[3] * dim], dim, out float d0, out float d1, out float d2, out float d3);
                    if (d0 < mi) mi = d0;
                    if (d1 < mi) mi = d1;
                    if (d2 < mi) mi = d2;
                    if (d3 < mi) mi = d3;
                    found = 0;
                }
            }
            for (int f = 0; f < found; f++)
            {
                float d = ProjectedDistance.Distance(ref x, ref centers[(long)batch[f] * dim], dim);
                if (d < mi) mi = d;
            }
            _m[p] = mi;
        }
    }

    private void RecomputeMax(ref Block block)
    {
        int best = block.Start;
        float bestValue = _m[best];
        int bestOrig = _orig[best];
        for (int p = block.Start + 1; p < block.Start + block.Length; p++)
        {
            float v = _m[p];
            if (v > bestValue || (v == bestValue && _orig[p] < bestOrig))
            {
                best = p; bestValue = v; bestOrig = _orig[p];
            }
        }
        block.Max = bestValue;
        block.ArgPos = best;
        block.ArgOrig = bestOrig;
    }

    private static int LowerBound(float[] sorted, int count, float value)
    {
        int lo = 0, hi = count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < value) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    private static int Nearest(float[] y, int i, int dim, float[] anchors, int first, int count)
    {
        var row = y.AsSpan(i * dim, dim);
        int best = 0;
        float bestDistance = float.MaxValue;
        for (int j = 0; j < count; j++)
        {
            float d = ProjectedDistance.Distance(row, anchors.AsSpan((first + j) * dim, dim));
            if (d < bestDistance) { bestDistance = d; best = j; }
        }
        return best;
    }

    private static (int[] Start, int[] Order) GroupBy(int[] key, int groups)
    {
        var start = new int[groups + 1];
        foreach (int k in key) start[k + 1]++;
        for (int g = 0; g < groups; g++) start[g + 1] += start[g];
        var next = start.AsSpan(0, groups).ToArray();
        var order = new int[key.Length];
        for (int i = 0; i < key.Length; i++) order[next[key[i]]++] = i;
        return (start, order);
    }

    private static int[] DistinctSample(Random random, int n, int k)
    {
        // Partial Fisher-Yates over 0..n-1.
        var all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        for (int i = 0; i < k; i++)
        {
            int j = random.Next(i, n);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all.AsSpan(0, k).ToArray();
    }

    private static void ParallelRows(int n, Action<int> body) =>
        Parallel.For(0, (n + 1023) / 1024, chunk =>
        {
            int end = Math.Min(n, (chunk + 1) * 1024);
            for (int i = chunk * 1024; i < end; i++) body(i);
        });

    /// <summary>Tournament tree over blocks keyed by (bound descending, argmax index ascending).</summary>
    private sealed class BlockTree
    {
        private readonly int _leaves;
        private readonly int[] _winner;
        private readonly float[] _max;
        private readonly int[] _arg;

        public BlockTree(int count)
        {
            _leaves = 1;
            while (_leaves < count) _leaves <<= 1;
            _winner = new int[2 * _leaves];
            Array.Fill(_winner, -1);
            _max = new float[count];
            _arg = new int[count];
        }

        public int Top => _winner[1];

        public void Set(int block, float max, int arg)
        {
            _max[block] = max;
            _arg[block] = arg;
            int node = _leaves + block;
            _winner[node] = block;
            for (node >>= 1; node >= 1; node >>= 1)
                _winner[node] = Better(_winner[2 * node], _winner[2 * node + 1]);
        }

        private int Better(int a, int b)
        {
            if (a < 0) return b;
            if (b < 0) return a;
            return _max[a] > _max[b] || (_max[a] == _max[b] && _arg[a] < _arg[b]) ? a : b;
        }
    }
}
