namespace PatchCore.Core.Search;

/// <summary>How a loaded bank is searched for each patch's nearest neighbours (names on command lines: <see cref="SearchBackends"/>).</summary>
public enum SearchBackend
{
    /// <summary>
    /// The fastest exact search for the bank and device: <see cref="Projected"/> for a Flat bank on the CPU,
    /// <see cref="Torch"/> for a Flat bank on CUDA, and the bank's own FAISS index when it is approximate.
    /// </summary>
    Auto,
    /// <summary>The FAISS index stored in the bank (exact flat or approximate).</summary>
    Faiss,
    /// <summary>Exact chunked search on the torch device (the natural choice on CUDA).</summary>
    Torch,
    /// <summary>Exact search on the CPU, pruned by lower bounds in the bank's principal components.</summary>
    Projected,
    /// <summary>
    /// Approximate search on the CPU: inverted lists in the principal components, a shortlist re-ranked exactly; each
    /// image's highest patches are then re-searched exactly, so image scores are exact and only the anomaly map is
    /// approximate.
    /// </summary>
    ProjectedApproximate,
}
