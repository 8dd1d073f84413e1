namespace PatchCore.Core.Sampling;

/// <summary>
/// A greedy coreset whose cost grows slowly with the candidates (<see cref="CoresetMethod.TwoStage"/>):
/// <list type="number">
/// <item>First pass: the candidates in ceil(N / <see cref="CoresetOptions.FirstPassRows"/>) blocks of consecutive rows (the
/// order they were added), split evenly so that no block is much shorter than the others (a short last block would keep
/// only a few rows, however spread out they are). Each block's projections are read from the store and the
/// exact greedy (<see cref="CoresetSampler.Greedy"/>, the one loop of every build) keeps
/// ceil(<see cref="CoresetOptions.FirstPassFactor"/> x count / N x block rows) of them.</item>
/// <item>Second pass: the same exact greedy over the survivors, in ascending candidate order, selects the count.</item>
/// </list>
/// Cost: the exact greedy is about N x count distance evaluations (before pruning); here the first pass is about
/// N x factor x share x block rows (linear in N for a fixed share) and the second (factor x count) x count.
/// Memory: one block's projections ([FirstPassRows, P] float32, 32 MiB at 65,536 x 128) and its greedy's own copy, plus
/// the survivors' projections ([factor x count, P]) and their greedy's copy; the store's projections beyond
/// <see cref="CandidateStoreOptions.ProjectionMemoryBytes"/> stay in its temp file, so the candidates' projections
/// are never all in memory at once.
/// Coverage: a candidate lies within its block's first-pass radius r1 of a survivor, and every survivor within the
/// second pass's radius r2 of a selected row, so max r1 + r2 bounds every candidate's projected distance to the
/// selection (the triangle inequality): the radius returned, an upper bound rather than the attained maximum.
/// </summary>
internal static class TwoStageCoreset
{
    /// <summary>Selects <paramref name="count"/> of the store's candidates (original indices, in selection order).</summary>
    public static CoresetSelection Select(CandidateStore store, CoresetOptions options, int count, IProgress<double>? progress, CancellationToken ct)
    {
        long n = store.Count;
        int dim = store.ProjectionDim;
        int blockRows = (int)Math.Min(options.FirstPassRows, n);
        long blocks = (n + blockRows - 1) / blockRows;
        if ((long)blockRows * dim > Array.MaxLength)
            throw new PatchCoreException($"A first-pass block of {blockRows} rows x {dim} projected values exceeds one array; lower FirstPassRows.");
        double share = Math.Min(1.0, options.FirstPassFactor * count / n);
        long survivorCount = 0;
        for (long b = 0; b < blocks; b++)
            survivorCount += Keep(share, (int)(BlockStart(b + 1, blocks, n) - BlockStart(b, blocks, n)));
        if (survivorCount * dim > Array.MaxLength)
            throw new PatchCoreException($"{survivorCount} first-pass survivors x {dim} projected values exceed one array; lower the coreset share or FirstPassFactor.");

        var block = new float[(long)blockRows * dim];   // [blockRows, P], one block at a time
        var survivors = new long[survivorCount];         // original indices, ascending
        var survivorRows = new float[survivorCount * dim]; // [S, P]
        int kept = 0;
        float firstRadius = 0f;
        bool bounded = true;
        for (long b = 0; b < blocks; b++)
        {
            ct.ThrowIfCancellationRequested();
            long first = BlockStart(b, blocks, n);
            int rows = (int)(BlockStart(b + 1, blocks, n) - first);
            store.ReadProjected(first, block.AsSpan(0, rows * dim));
            var local = CoresetSampler.Greedy(block, rows, dim, Keep(share, rows), options, progress: null, ct);
            bounded &= local.CoverageRadius is not null;
            firstRadius = Math.Max(firstRadius, local.LargestRemaining);
            long[] picked = local.Indices;
            Array.Sort(picked);
            foreach (long i in picked)
            {
                block.AsSpan((int)i * dim, dim).CopyTo(survivorRows.AsSpan(kept * dim, dim));
                survivors[kept++] = first + i;
            }
            progress?.Report(FirstPassShare * (b + 1) / blocks);
        }

        IProgress<double>? second = progress is null ? null : new SyncProgress<double>(f => progress.Report(FirstPassShare + (1 - FirstPassShare) * f));
        var final = CoresetSampler.Greedy(survivorRows, kept, dim, count, options, second, ct);
        var indices = Array.ConvertAll(final.Indices, i => survivors[i]);
        float? radius = bounded && final.CoverageRadius is float r2 ? firstRadius + r2 : null;
        return new CoresetSelection(indices, final.LargestRemaining, radius);
    }

    /// <summary>The share of the progress given to the first pass.</summary>
    private const double FirstPassShare = 0.5;

    /// <summary>First row of block <paramref name="block"/> of <paramref name="blocks"/> even blocks over <paramref name="n"/> rows.</summary>
    private static long BlockStart(long block, long blocks, long n) => (long)((Int128)n * block / blocks);

    /// <summary>How many of a block's rows the first pass keeps: ceil(share x rows), at least 1.</summary>
    private static int Keep(double share, int rows) => (int)Math.Clamp(Math.Ceiling(share * rows), 1, rows);
}
