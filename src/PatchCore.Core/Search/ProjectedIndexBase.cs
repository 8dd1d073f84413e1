namespace PatchCore.Core.Search;

/// <summary>
/// What the projected indexes share: the bank's rows in one float32 array [Count, Dimension] (an array passed to
/// <see cref="Share"/> is used as given, not copied), a fit (projection, lists) made on demand and dropped when rows
/// are added, queries taken in chunks of at most <see cref="MaxQueryRows"/>, and every call serialised on one lock.
/// A derived index supplies the fit and the search of one chunk.
/// </summary>
internal abstract class ProjectedIndexBase : INearestNeighbourIndex
{
    /// <summary>Largest query rows per chunk.</summary>
    private protected const int MaxQueryRows = 1024;

    private readonly object _gate = new();
    private float[] _queryRows = [];
    private bool _disposed;

    private protected ProjectedIndexBase(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Dimension = dimension;
    }

    public int Dimension { get; }
    public long Count { get; private set; }

    /// <summary>The bank's rows, row-major [Count, Dimension].</summary>
    private protected float[] Vectors { get; private set; } = [];

    /// <summary>Uses <paramref name="vectors"/> [n, Dimension] as the bank (before any other call; it must not change afterwards).</summary>
    private protected void Share(float[] vectors)
    {
        Count = IndexArguments.Rows(vectors.Length, Dimension, nameof(vectors));
        Vectors = vectors;
    }

    public void Add(ReadOnlySpan<float> vectors)
    {
        long n = IndexArguments.Rows(vectors.Length, Dimension, nameof(vectors));
        if (n == 0) return;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var grown = new float[checked((Count + n) * Dimension)];
            Vectors.AsSpan(0, (int)(Count * Dimension)).CopyTo(grown);
            vectors.CopyTo(grown.AsSpan((int)(Count * Dimension)));
            Vectors = grown;
            Count += n;
            DropFit();
        }
    }

    /// <summary>Makes the fit now instead of at the first search (so that the first image is not slower).</summary>
    public void Prepare()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            EnsureFit();
        }
    }

    public void Search(ReadOnlySpan<float> queries, int k, Span<float> distances, Span<long> labels)
    {
        long nq = IndexArguments.CheckSearch(Dimension, queries, k, distances, labels);
        distances.Fill(float.MaxValue);
        labels.Fill(-1);
        if (nq == 0) return;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Count == 0) return;
            EnsureFit();
            BeginSearch();
            for (int q0 = 0; q0 < nq; q0 += MaxQueryRows)
            {
                int rows = (int)Math.Min(MaxQueryRows, nq - q0);
                // The chunk goes into an array the index keeps (the row passes run in parallel and need an array):
                // a fresh one per search cost about 10 ms for 784 x 1024 floats, most of it first-touch page faults.
                int length = rows * Dimension;
                if (_queryRows.Length < length) _queryRows = new float[Math.Min(nq, MaxQueryRows) * Dimension];
                queries.Slice(q0 * Dimension, length).CopyTo(_queryRows);
                SearchChunk(_queryRows, rows, k, distances.Slice(q0 * k, rows * k), labels.Slice(q0 * k, rows * k));
            }
            EndSearch(nq);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            Vectors = [];
            _queryRows = [];
            DropFit();
        }
    }

    /// <summary>Makes the fit over <see cref="Vectors"/> if there is none (called under the lock, with Count &gt; 0 before a search).</summary>
    private protected abstract void EnsureFit();

    /// <summary>Forgets the fit and any buffers (rows were added, or the index is disposed).</summary>
    private protected abstract void DropFit();

    /// <summary>Before the chunks of one search: reset its statistics.</summary>
    private protected abstract void BeginSearch();

    /// <summary>
    /// k nearest of one chunk of queries: the first [rows, Dimension] floats of <paramref name="queries"/> (an array the
    /// index reuses; valid during the call only); distances and labels [rows, k] arrive filled as missing.
    /// </summary>
    private protected abstract void SearchChunk(float[] queries, int rows, int k, Span<float> distances, Span<long> labels);

    /// <summary>After the chunks of one search of <paramref name="queries"/> queries: publish its statistics.</summary>
    private protected abstract void EndSearch(long queries);
}
