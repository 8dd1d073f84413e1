using PatchCore.Core.Native;
using TorchSharp;

namespace PatchCore.Core.Search;

/// <summary>
/// Every search index is made here: the FAISS index a bank file stores (made by the builder, read back by the
/// detector) and the search a loaded bank runs (<see cref="SearchBackend"/>).
/// </summary>
internal static class SearchIndexFactory
{
    /// <summary>
    /// The FAISS index of a new bank as its file stores it: created from the factory string, trained when it needs it,
    /// filled with the bank's vectors [n, dimension], serialized. Description is the factory string as the bank records it.
    /// </summary>
    public static (byte[] Bytes, string Description) BuildStored(string factory, float[] vectors, int dimension)
    {
        using var index = FaissIndex.Create(dimension, factory);
        index.Add(vectors);
        return (index.ToBytes(), index.Description);
    }

    /// <summary>
    /// An exact search over rows [n, dimension] for work outside scoring (a bank update's nearest bank vectors in the
    /// coreset projection): FAISS Flat, whose distance matrix is an OpenBLAS sgemm in blocks (bounded memory).
    /// </summary>
    public static INearestNeighbourIndex ExactFlat(ReadOnlySpan<float> rows, int dimension)
    {
        var index = FaissIndex.Create(dimension, "Flat");
        try { index.Add(rows); }
        catch { index.Dispose(); throw; }
        return index;
    }

    /// <summary>What <see cref="SearchBackend.Auto"/> means for a bank's stored index and the device.</summary>
    public static SearchBackend Resolve(SearchBackend requested, string indexFactory, DeviceType device)
    {
        if (requested != SearchBackend.Auto) return requested;
        if (!string.Equals(indexFactory, "Flat", StringComparison.OrdinalIgnoreCase)) return SearchBackend.Faiss;
        return device == DeviceType.CPU ? SearchBackend.Projected : SearchBackend.Torch;
    }

    /// <summary>
    /// The search for a resolved backend over the bank's vectors [n, dimension] (shared, not copied).
    /// <paramref name="storedIndex"/> reads the bank's FAISS index, only when that is the choice.
    /// </summary>
    public static SearchIndexes Create(SearchBackend backend, float[] vectors, int dimension, torch.Device device, long workBudgetBytes,
        DetectorOptions options, Func<FaissIndex> storedIndex)
    {
        switch (backend)
        {
            case SearchBackend.Torch:
                var torchIndex = new TorchExactIndex(dimension, device, workBudgetBytes);
                try { torchIndex.Add(vectors); }
                catch { torchIndex.Dispose(); throw; }
                return new SearchIndexes(torchIndex);
            case SearchBackend.Projected:
                return new SearchIndexes(Projected(vectors, dimension, options.Projected));
            case SearchBackend.ProjectedApproximate:
                var exact = Projected(vectors, dimension, options.Projected);
                try
                {
                    var ivf = ProjectedIvfIndex.Over(vectors, dimension, options.ProjectedApproximate);
                    ivf.Prepare();
                    return new SearchIndexes(ivf, exact);
                }
                catch
                {
                    exact.Dispose();
                    throw;
                }
            default:
                var faiss = storedIndex();
                try
                {
                    if (options.SearchParameters is { } parameters)
                        foreach (var (name, value) in parameters) faiss.SetSearchParameter(name, value);
                }
                catch
                {
                    faiss.Dispose();
                    throw;
                }
                return new SearchIndexes(faiss);
        }
    }

    /// <summary>A projected index sharing the bank's vector array, fitted now so that the first image is not slower.</summary>
    private static ProjectedFlatIndex Projected(float[] vectors, int dimension, ProjectedSearchOptions? options)
    {
        var index = ProjectedFlatIndex.Over(vectors, dimension, options ?? ProjectedSearchOptions.ExactDefault);
        try { index.Prepare(); }
        catch { index.Dispose(); throw; }
        return index;
    }
}
