using TorchSharp;

namespace PatchCore.Core.Sampling;

/// <summary>
/// PatchCore's approximate greedy coreset: greedy farthest-point selection in a seeded random projection
/// (see <see cref="CoresetOptions"/>). <see cref="Select"/> is the fast exact path (same indices as
/// <see cref="SelectPlain"/>); <see cref="SelectOnDevice"/> runs the plain loop with torch on a device.
/// All return original row indices in selection order.
/// </summary>
internal static class CoresetSampler
{
    /// <summary>Fast exact greedy selection (blocked, lazily updated, triangle-inequality pruned).</summary>
    public static long[] Select(CandidateStore store, CoresetOptions options, IProgress<double>? progress = null, CancellationToken ct = default)
    {
        var (y, n, count, starts) = Prepare(store, options);
        return BlockedGreedyCoreset.Select(y, n, store.ProjectionDim, count, starts, options.Seed, progress, ct);
    }

    /// <summary>The straightforward O(N * count) loop: the reference the fast path must equal.</summary>
    public static long[] SelectPlain(CandidateStore store, CoresetOptions options, IProgress<double>? progress = null, CancellationToken ct = default)
    {
        var (y, n, count, starts) = Prepare(store, options);
        return PlainGreedyCoreset.Select(y, n, store.ProjectionDim, count, starts, progress, ct);
    }

    /// <summary>The plain loop as torch ops on <paramref name="device"/> (CUDA or CPU); equal to <see cref="SelectPlain"/> up to float ties.</summary>
    public static long[] SelectOnDevice(CandidateStore store, CoresetOptions options, torch.Device device, IProgress<double>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        var (y, n, count, starts) = Prepare(store, options);
        return TorchGreedyCoreset.Select(y, n, store.ProjectionDim, count, starts, device, progress, ct);
    }

    /// <summary>Max over all candidates of the full-dimensional distance to the nearest selected row.</summary>
    public static double CoverageRadius(CandidateStore store, IReadOnlyList<long> selected, torch.Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(selected);
        return CoresetCoverage.Radius(store, selected, device);
    }

    private static (float[] Y, int N, int Count, int[] Starts) Prepare(CandidateStore store, CoresetOptions options)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        int count = options.ResolveCount(store.Count);
        if (store.ProjectionDim != options.ProjectionDim || store.ProjectionSeed != options.Seed)
            throw new PatchCoreException(
                $"The candidate store was projected to {store.ProjectionDim} dimensions with seed {store.ProjectionSeed}, but the coreset options ask for " +
                $"{options.ProjectionDim} with seed {options.Seed}: create the store with options.ToStoreOptions().");
        if (store.Count * store.ProjectionDim > Array.MaxLength)
            throw new PatchCoreException($"{store.Count} candidates x {store.ProjectionDim} projected values exceed one array; lower the candidate count.");
        int n = (int)store.Count;
        var y = new float[(long)n * store.ProjectionDim];
        store.ReadProjected(0, y);
        int[] starts = GreedyStart.PickStartPoints(n, options.StartPoints, options.Seed);
        return (y, n, count, starts);
    }
}
