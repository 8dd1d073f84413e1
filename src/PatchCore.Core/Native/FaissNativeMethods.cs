using System.Runtime.InteropServices;

namespace PatchCore.Core.Native;

/// <summary>
/// P/Invoke declarations for libpatchcore_faiss.so (src/PatchCore.Faiss.Native/faiss_shim.cpp). Functions returning
/// int return 0 on success; otherwise <see cref="LastError"/> holds the text on the calling thread.
/// </summary>
internal static unsafe partial class FaissNativeMethods
{
    private const string Library = "patchcore_faiss";

    [LibraryImport(Library, EntryPoint = "pcf_last_error")]
    private static partial nint LastErrorPointer();

    /// <summary>The failure text of the last failing call on this thread.</summary>
    internal static string LastError() => Marshal.PtrToStringUTF8(LastErrorPointer()) ?? "unknown FAISS error";

    [LibraryImport(Library, EntryPoint = "pcf_index_factory", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int IndexFactory(int dimension, string description, out FaissIndexHandle index);

    [LibraryImport(Library, EntryPoint = "pcf_index_free")]
    internal static partial void IndexFree(nint index);

    [LibraryImport(Library, EntryPoint = "pcf_index_dimension")]
    internal static partial int IndexDimension(FaissIndexHandle index, out int dimension);

    [LibraryImport(Library, EntryPoint = "pcf_index_ntotal")]
    internal static partial int IndexCount(FaissIndexHandle index, out long count);

    [LibraryImport(Library, EntryPoint = "pcf_index_is_trained")]
    internal static partial int IndexIsTrained(FaissIndexHandle index, out int isTrained);

    [LibraryImport(Library, EntryPoint = "pcf_index_train")]
    internal static partial int IndexTrain(FaissIndexHandle index, long n, float* vectors);

    [LibraryImport(Library, EntryPoint = "pcf_index_add")]
    internal static partial int IndexAdd(FaissIndexHandle index, long n, float* vectors);

    [LibraryImport(Library, EntryPoint = "pcf_index_search")]
    internal static partial int IndexSearch(FaissIndexHandle index, long n, float* queries, long k, float* distances, long* labels);

    [LibraryImport(Library, EntryPoint = "pcf_index_set_parameter", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int IndexSetParameter(FaissIndexHandle index, string name, double value);

    /// <summary>A malloc'd UTF-8 text, released with <see cref="BufferFree"/>.</summary>
    [LibraryImport(Library, EntryPoint = "pcf_index_describe")]
    internal static partial int IndexDescribe(FaissIndexHandle index, out nint text);

    [LibraryImport(Library, EntryPoint = "pcf_index_write_file", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int IndexWriteFile(FaissIndexHandle index, string path);

    [LibraryImport(Library, EntryPoint = "pcf_index_read_file", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int IndexReadFile(string path, out FaissIndexHandle index);

    /// <summary>A malloc'd buffer, released with <see cref="BufferFree"/>.</summary>
    [LibraryImport(Library, EntryPoint = "pcf_index_serialize")]
    internal static partial int IndexSerialize(FaissIndexHandle index, out nint buffer, out nuint size);

    [LibraryImport(Library, EntryPoint = "pcf_buffer_free")]
    internal static partial void BufferFree(nint buffer);

    [LibraryImport(Library, EntryPoint = "pcf_index_deserialize")]
    internal static partial int IndexDeserialize(byte* buffer, nuint size, out FaissIndexHandle index);

    /// <summary>Row-major c[m, n] = alpha * a[m, k] . b[n, k]^T + beta * c, with OpenBLAS.</summary>
    [LibraryImport(Library, EntryPoint = "pcf_sgemm_nt")]
    internal static partial int SgemmNt(int m, int n, int k, float alpha, float* a, float* b, float beta, float* c);

    /// <summary>FAISS PCAMatrix on x [n, dIn]: mean [dIn], components [dOut, dIn] row-major, eigenvalues [dIn] decreasing.</summary>
    [LibraryImport(Library, EntryPoint = "pcf_pca_train")]
    internal static partial int PcaTrain(int dIn, int dOut, long n, float* x, float* mean, float* components, float* eigenvalues);

    /// <summary>FAISS k-means of x [n, d] into centroids [k, d].</summary>
    [LibraryImport(Library, EntryPoint = "pcf_kmeans")]
    internal static partial int KMeans(int d, long n, int k, float* x, int iterations, int seed, float* centroids);

    [LibraryImport(Library, EntryPoint = "pcf_set_thread_count")]
    internal static partial int SetThreadCount(int count);

    [LibraryImport(Library, EntryPoint = "pcf_get_thread_count")]
    internal static partial int GetThreadCount();
}
