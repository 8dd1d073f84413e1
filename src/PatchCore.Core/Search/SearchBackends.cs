namespace PatchCore.Core.Search;

/// <summary>The names of <see cref="SearchBackend"/> on command lines and in settings files.</summary>
public static class SearchBackends
{
    private static readonly (string Name, SearchBackend Value)[] Names =
    [
        ("auto", SearchBackend.Auto),
        ("faiss", SearchBackend.Faiss),
        ("torch", SearchBackend.Torch),
        ("projected", SearchBackend.Projected),
        ("projected-approx", SearchBackend.ProjectedApproximate),
    ];

    public const string Help =
        "auto (default: exact, projected on the CPU for a Flat bank, torch on CUDA, the bank's FAISS index when it is approximate), " +
        "faiss (the bank's FAISS index), torch (exact, on the device), projected (exact, pruned by principal-component bounds) " +
        "or projected-approx (approximate: inverted lists in the principal components, a shortlist re-ranked exactly).";

    /// <exception cref="PatchCoreException">The name is none of the above.</exception>
    public static SearchBackend Parse(string name)
    {
        string key = name.Trim().ToLowerInvariant();
        foreach (var (n, v) in Names)
            if (n == key) return v;
        throw new PatchCoreException($"Unknown search '{name}': expected {string.Join(", ", Names.Select(n => n.Name))}.");
    }

    public static string Name(SearchBackend backend) => Names.First(n => n.Value == backend).Name;
}
