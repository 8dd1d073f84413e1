using TorchSharp;

namespace PatchCore.Core.Sampling;

/// <summary>
/// PatchCore's approximate greedy coreset: greedy farthest-point selection in a seeded random projection
/// (see <see cref="CoresetOptions"/>). <see cref="Select"/> is the fast exact path (same indices as
/// <see cref="SelectPlain"/>), or the two-stage one for large candidate sets (<see cref="CoresetOptions.Method"/>); <see cref="SelectOnDevice"/> runs the plain loop with torch on a device;
/// <see cref="Extend"/> continues a bank's greedy over new candidates (a bank update). All return the original row
/// indices in selection order with the greedy's coverage radius in the projection (<see cref="CoresetSelection"/>),
/// which is free: the largest remaining min distance after the last centre, one more argmax.
/// </summary>
internal static class CoresetSampler
{
    /// <summary>
    /// The coreset by <see cref="CoresetOptions.ResolveMethod"/>: the fast exact greedy selection (blocked, lazily
    /// updated, triangle-inequality pruned; the indices of <see cref="SelectPlain"/>), or above
    /// <see cref="CoresetOptions.TwoStageAbove"/> candidates the <see cref="TwoStageCoreset"/>.
    /// </summary>
    public static CoresetSelection Select(CandidateStore store, CoresetOptions options, IProgress<double>? progress = null, CancellationToken ct = default)
    {
        int count = CheckOptions(store, options);
        if (options.ResolveMethod(store.Count) == CoresetMethod.TwoStage)
            return TwoStageCoreset.Select(store, options, count, progress, ct);
        var (y, n) = ReadProjected(store);
        return Greedy(y, n, store.ProjectionDim, count, options, progress, ct);
    }

    /// <summary>
    /// The exact fast greedy of a build over the projected rows <paramref name="y"/> [n, P] (every stage of every method
    /// runs it): m starts at the mean distance to the options' seeded start points, then the blocked loop. Indices are
    /// rows of <paramref name="y"/>.
    /// </summary>
    internal static CoresetSelection Greedy(float[] y, int n, int dim, int count, CoresetOptions options, IProgress<double>? progress, CancellationToken ct)
    {
        int[] starts = GreedyStart.PickStartPoints(n, options.StartPoints, options.Seed);
        var m0 = GreedyStart.MeanDistances(y, n, dim, starts);
        var (selected, largest) = BlockedGreedyCoreset.Select(y, n, dim, count, m0, stopAt: null, options.Seed, progress, ct);
        return FromBuild(selected, largest, m0);
    }

    /// <summary>The straightforward O(N * count) loop: the reference the fast path must equal.</summary>
    public static CoresetSelection SelectPlain(CandidateStore store, CoresetOptions options, IProgress<double>? progress = null, CancellationToken ct = default)
    {
        var (y, n, count, m0) = Prepare(store, options);
        var (selected, largest) = PlainGreedyCoreset.Select(y, n, store.ProjectionDim, count, m0, stopAt: null, progress, ct);
        return FromBuild(selected, largest, m0);
    }

    /// <summary>The plain loop as torch ops on <paramref name="device"/> (CUDA or CPU); equal to <see cref="SelectPlain"/> up to float ties.</summary>
    public static CoresetSelection SelectOnDevice(CandidateStore store, CoresetOptions options, torch.Device device, IProgress<double>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        var (y, n, count, m0) = Prepare(store, options);
        var (selected, largest) = TorchGreedyCoreset.Select(y, n, store.ProjectionDim, count, m0, device, progress, ct);
        return FromBuild(selected, largest, m0);
    }

    /// <summary>
    /// Extends a bank's coreset over the new candidates in <paramref name="store"/>: the greedy continued from the
    /// bank's centres <paramref name="bankRows"/> [K, P] (the bank's vectors through the store's own projection,
    /// <see cref="RowProjector"/>). Each candidate starts at its distance to the nearest bank row
    /// (<see cref="GreedyStart.NearestDistances"/>); the farthest is added while it is farther than
    /// <paramref name="stopAt"/> (null: no radius rule), and at most <paramref name="maxCount"/> are added. Runs the
    /// blocked loop of a build; equal to <see cref="ExtendPlain"/>.
    /// </summary>
    public static CoresetSelection Extend(CandidateStore store, float[] bankRows, int maxCount, float? stopAt, int layoutSeed,
        IProgress<double>? progress = null, CancellationToken ct = default)
    {
        var (y, n) = PrepareExtension(store, bankRows, maxCount, stopAt);
        var m0 = GreedyStart.NearestDistances(y, n, store.ProjectionDim, bankRows);
        ct.ThrowIfCancellationRequested();
        var (selected, largest) = BlockedGreedyCoreset.Select(y, n, store.ProjectionDim, maxCount, m0, stopAt, layoutSeed, progress, ct);
        return new CoresetSelection(selected, largest, largest);
    }

    /// <summary>The reference for <see cref="Extend"/>: brute-force nearest bank rows, then the plain loop.</summary>
    public static CoresetSelection ExtendPlain(CandidateStore store, float[] bankRows, int maxCount, float? stopAt,
        IProgress<double>? progress = null, CancellationToken ct = default)
    {
        var (y, n) = PrepareExtension(store, bankRows, maxCount, stopAt);
        var m0 = GreedyStart.NearestDistancesBruteForce(y, n, store.ProjectionDim, bankRows);
        var (selected, largest) = PlainGreedyCoreset.Select(y, n, store.ProjectionDim, maxCount, m0, stopAt, progress, ct);
        return new CoresetSelection(selected, largest, largest);
    }

    /// <summary>Max over all candidates of the full-dimensional distance to the nearest selected row.</summary>
    public static double CoverageRadius(CandidateStore store, IReadOnlyList<long> selected, torch.Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(selected);
        return CoresetCoverage.Radius(store, selected, device);
    }

    /// <summary>
    /// A build's selection with its coverage radius: the largest remaining m is a true bound once it is below every
    /// start value (then every m has been lowered by a real centre), or when every candidate was selected.
    /// </summary>
    private static CoresetSelection FromBuild(long[] selected, float largest, float[] m0)
    {
        bool bound = selected.Length == m0.Length || largest < m0.Min();
        return new CoresetSelection(selected, largest, bound ? largest : null);
    }

    /// <summary>The count to select; throws when the options are invalid or do not match the store's projection.</summary>
    private static int CheckOptions(CandidateStore store, CoresetOptions options)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        int count = options.ResolveCount(store.Count);
        if (store.ProjectionDim != options.ProjectionDim || store.ProjectionSeed != options.Seed)
            throw new PatchCoreException(
                $"The candidate store was projected to {store.ProjectionDim} dimensions with seed {store.ProjectionSeed}, but the coreset options ask for " +
                $"{options.ProjectionDim} with seed {options.Seed}: create the store with options.ToStoreOptions().");
        return count;
    }

    /// <summary>The exact methods' inputs: every projected row in one array and the start values.</summary>
    private static (float[] Y, int N, int Count, float[] InitialM) Prepare(CandidateStore store, CoresetOptions options)
    {
        int count = CheckOptions(store, options);
        var (y, n) = ReadProjected(store);
        int[] starts = GreedyStart.PickStartPoints(n, options.StartPoints, options.Seed);
        return (y, n, count, GreedyStart.MeanDistances(y, n, store.ProjectionDim, starts));
    }

    private static (float[] Y, int N) PrepareExtension(CandidateStore store, float[] bankRows, int maxCount, float? stopAt)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(bankRows);
        if (store.Count < 1)
            throw new PatchCoreException("The candidate store is empty: append the new embeddings before extending a coreset.");
        if (bankRows.Length == 0 || bankRows.Length % store.ProjectionDim != 0)
            throw new PatchCoreException($"The bank's projected rows ({bankRows.Length} values) are not a whole, non-zero number of rows of width {store.ProjectionDim}.");
        if (maxCount < 0)
            throw new ArgumentOutOfRangeException(nameof(maxCount), maxCount, $"The number of points to add must not be negative, got {maxCount}.");
        if (stopAt is float r && !(r >= 0 && float.IsFinite(r)))
            throw new ArgumentOutOfRangeException(nameof(stopAt), stopAt, $"The coverage radius must be a finite number >= 0, got {stopAt}.");
        return ReadProjected(store);
    }

    private static (float[] Y, int N) ReadProjected(CandidateStore store)
    {
        if (store.Count * store.ProjectionDim > Array.MaxLength)
            throw new PatchCoreException($"{store.Count} candidates x {store.ProjectionDim} projected values exceed one array; lower the candidate count.");
        int n = (int)store.Count;
        var y = new float[(long)n * store.ProjectionDim];
        store.ReadProjected(0, y);
        return (y, n);
    }
}
