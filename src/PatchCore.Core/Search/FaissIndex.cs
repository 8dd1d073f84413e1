using System.Runtime.InteropServices;
using PatchCore.Core.Native;

namespace PatchCore.Core.Search;

/// <summary>
/// A FAISS index (metric L2) behind the native shim libpatchcore_faiss.so. Distances are squared L2.
/// Searches may run concurrently; Add, Train and SetSearchParameter must not overlap other calls on the same index.
/// </summary>
internal sealed class FaissIndex : INearestNeighbourIndex
{
    private readonly FaissIndexHandle _handle;

    private FaissIndex(FaissIndexHandle handle, string description)
    {
        _handle = handle;
        FaissException.ThrowIfFailed(FaissNativeMethods.IndexDimension(handle, out int dimension), "FAISS dimension");
        Dimension = dimension;
        Description = description;
    }

    public int Dimension { get; }

    /// <summary>
    /// The factory string the index was created from ("Flat", "IVF16,Flat", "HNSW32", ...). For an index read from
    /// a file or bytes, FAISS does not store it: it is rebuilt for Flat, IVFn,Flat, IVFn,PQmxb, PQmxb and HNSWm,
    /// and is the C++ class name for other types.
    /// </summary>
    public string Description { get; }

    public long Count
    {
        get
        {
            FaissException.ThrowIfFailed(FaissNativeMethods.IndexCount(_handle, out long count), "FAISS ntotal");
            return count;
        }
    }

    public bool IsTrained
    {
        get
        {
            FaissException.ThrowIfFailed(FaissNativeMethods.IndexIsTrained(_handle, out int trained), "FAISS is_trained");
            return trained != 0;
        }
    }

    /// <summary>
    /// Creates an empty index from a FAISS factory string; "Flat" (any letter case) is the exact index.
    /// </summary>
    /// <exception cref="FaissException">FAISS rejects the factory string; the message carries FAISS's text.</exception>
    public static FaissIndex Create(int dimension, string factory = "Flat")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(factory);
        string description = factory.Trim();
        if (string.Equals(description, "flat", StringComparison.OrdinalIgnoreCase))
            description = "Flat";

        int status = FaissNativeMethods.IndexFactory(dimension, description, out FaissIndexHandle handle);
        return Wrap(status, handle, $"FAISS index_factory(\"{description}\", d={dimension})", _ => description);
    }

    /// <summary>Trains the index (IVF, PQ, ...) on n = vectors.Length / Dimension vectors; a no-op need for Flat and HNSW.</summary>
    public unsafe void Train(ReadOnlySpan<float> vectors)
    {
        long n = Rows(vectors.Length, nameof(vectors));
        fixed (float* x = vectors)
            FaissException.ThrowIfFailed(FaissNativeMethods.IndexTrain(_handle, n, x), $"FAISS train ({Description}, {n} vectors)");
    }

    /// <summary>
    /// Adds n = vectors.Length / Dimension vectors, labelled Count, Count + 1, ... in order. When the index needs
    /// training (IVF, PQ) and is not trained yet, it is first trained on these same vectors; an IVF index then needs
    /// at least as many vectors as lists (FAISS raises otherwise). To train on a different set, call
    /// <see cref="Train"/> first.
    /// </summary>
    public unsafe void Add(ReadOnlySpan<float> vectors)
    {
        long n = Rows(vectors.Length, nameof(vectors));
        if (n == 0)
            return;
        if (!IsTrained)
            Train(vectors);
        fixed (float* x = vectors)
            FaissException.ThrowIfFailed(FaissNativeMethods.IndexAdd(_handle, n, x), $"FAISS add ({Description}, {n} vectors)");
    }

    /// <summary>
    /// The k nearest neighbours of nq = queries.Length / Dimension queries; distances and labels must hold exactly
    /// nq * k values (row-major [nq, k]). Where the index holds fewer than k vectors, FAISS fills label -1.
    /// </summary>
    public unsafe void Search(ReadOnlySpan<float> queries, int k, Span<float> distances, Span<long> labels)
    {
        long nq = IndexArguments.CheckSearch(Dimension, queries, k, distances, labels);
        if (nq == 0)
            return;

        fixed (float* q = queries)
        fixed (float* d = distances)
        fixed (long* l = labels)
        {
            FaissException.ThrowIfFailed(FaissNativeMethods.IndexSearch(_handle, nq, q, k, d, l), $"FAISS search ({Description}, {nq} queries, k={k})");
        }
    }

    /// <summary>
    /// Sets a search-time parameter: "nprobe" for IVF indexes, "efSearch" for HNSW. FAISS raises (a
    /// <see cref="FaissException"/>) when the parameter does not apply to this index type.
    /// </summary>
    public void SetSearchParameter(string name, double value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!double.IsFinite(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "A search parameter must be finite.");
        FaissException.ThrowIfFailed(FaissNativeMethods.IndexSetParameter(_handle, name, value), $"FAISS set {name}={value} ({Description})");
    }

    /// <summary>The index in FAISS's own serialization format (what faiss.serialize_index gives in Python).</summary>
    public byte[] ToBytes()
    {
        FaissException.ThrowIfFailed(FaissNativeMethods.IndexSerialize(_handle, out nint buffer, out nuint size), $"FAISS serialize ({Description})");
        try
        {
            if (size > (nuint)Array.MaxLength)
                throw new PatchCoreException($"FAISS index ({Description}) serializes to {size} bytes, more than one .NET array holds.");
            var bytes = GC.AllocateUninitializedArray<byte>((int)size);
            Marshal.Copy(buffer, bytes, 0, bytes.Length);
            return bytes;
        }
        finally
        {
            FaissNativeMethods.BufferFree(buffer);
        }
    }

    /// <summary>Reads an index written by <see cref="ToBytes"/> (or FAISS's serialize_index).</summary>
    public static unsafe FaissIndex FromBytes(ReadOnlySpan<byte> bytes)
    {
        int status;
        FaissIndexHandle handle;
        fixed (byte* b = bytes)
            status = FaissNativeMethods.IndexDeserialize(b, (nuint)bytes.Length, out handle);
        return Wrap(status, handle, $"FAISS deserialize ({bytes.Length} bytes)", Describe);
    }

    /// <summary>Writes the index to <paramref name="path"/> in FAISS's file format (readable by faiss.read_index).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        FaissException.ThrowIfFailed(FaissNativeMethods.IndexWriteFile(_handle, full), $"{full}: FAISS write_index");
    }

    /// <summary>Reads an index file written by <see cref="Save"/> or by FAISS.</summary>
    public static FaissIndex Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        int status = FaissNativeMethods.IndexReadFile(full, out FaissIndexHandle handle);
        return Wrap(status, handle, $"{full}: FAISS read_index", Describe);
    }

    /// <summary>
    /// OpenMP (and OpenBLAS) threads FAISS uses from now on, process-wide. FAISS's OpenMP runtime is the system
    /// libgomp, separate from libtorch's: torch.set_num_threads does not change it, nor this torch.
    /// </summary>
    public static void SetThreadCount(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        FaissException.ThrowIfFailed(FaissNativeMethods.SetThreadCount(count), "FAISS set thread count");
    }

    /// <summary>Threads FAISS uses: the value set by <see cref="SetThreadCount"/>, else OpenMP's default.</summary>
    public static int ThreadCount => FaissNativeMethods.GetThreadCount();

    public void Dispose() => _handle.Dispose();

    private long Rows(int length, string parameterName) => IndexArguments.Rows(length, Dimension, parameterName);

    private static FaissIndex Wrap(int status, FaissIndexHandle handle, string context, Func<FaissIndexHandle, string> description)
    {
        try
        {
            FaissException.ThrowIfFailed(status, context);
            return new FaissIndex(handle, description(handle));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static string Describe(FaissIndexHandle handle)
    {
        FaissException.ThrowIfFailed(FaissNativeMethods.IndexDescribe(handle, out nint text), "FAISS describe");
        try
        {
            return Marshal.PtrToStringUTF8(text) ?? string.Empty;
        }
        finally
        {
            FaissNativeMethods.BufferFree(text);
        }
    }
}
