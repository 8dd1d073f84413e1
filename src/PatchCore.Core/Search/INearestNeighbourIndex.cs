namespace PatchCore.Core.Search;

/// <summary>
/// A searchable set of bank vectors. Vectors and queries are row-major float32 [n, Dimension].
/// Distances returned are squared L2 (as FAISS returns them); scoring takes the square root.
/// </summary>
internal interface INearestNeighbourIndex : IDisposable
{
    int Dimension { get; }
    long Count { get; }

    /// <summary>Adds n = vectors.Length / Dimension vectors.</summary>
    void Add(ReadOnlySpan<float> vectors);

    /// <summary>k nearest neighbours of nq = queries.Length / Dimension queries: distances and labels are [nq, k].</summary>
    void Search(ReadOnlySpan<float> queries, int k, Span<float> distances, Span<long> labels);
}
