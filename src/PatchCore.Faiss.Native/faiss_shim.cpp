// A small C ABI over FAISS's C++ API, for P/Invoke from .NET (PatchCore.Core/MemoryBank/FaissNativeMethods.cs).
// Debian's libfaiss-dev ships no compiled C API, so this shim is linked against the static libfaiss.a.
//
// Conventions:
//  * every function returning int returns 0 on success and non-zero on failure; the failure text is then
//    available from pcf_last_error() on the same thread (thread_local) until the next failing call there;
//  * no C++ exception crosses this boundary: every entry point catches everything;
//  * indexes are opaque pointers (faiss::Index*) owned by the caller and released with pcf_index_free;
//  * serialized buffers are malloc'd and released with pcf_buffer_free.

#include <faiss/AutoTune.h>
#include <faiss/Clustering.h>
#include <faiss/Index.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexPQ.h>
#include <faiss/VectorTransform.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <typeinfo>

extern "C" void openblas_set_num_threads(int num_threads);

// Fortran BLAS, as FAISS itself declares it (OpenBLAS provides it).
extern "C" int sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
        const float* alpha, const float* a, const int* lda, const float* b, const int* ldb, const float* beta,
        float* c, const int* ldc);

// Built with -fvisibility=hidden: only the pcf_ entry points are exported.
#define PCF_API __attribute__((visibility("default")))

namespace {

thread_local std::string last_error;

// Thread count chosen by pcf_set_thread_count; 0 = OpenMP's default. omp_set_num_threads only affects the
// calling thread, and .NET may call in from any thread, so every compute entry point re-applies it.
std::atomic<int> thread_count{0};

void apply_thread_count() {
    int n = thread_count.load(std::memory_order_relaxed);
    if (n > 0) {
        omp_set_num_threads(n);
    }
}

template <typename F>
int guarded(const char* what, F&& body) noexcept {
    try {
        body();
        return 0;
    } catch (const faiss::FaissException& e) {
        last_error = std::string(what) + ": " + e.what();
    } catch (const std::bad_alloc&) {
        last_error = std::string(what) + ": out of memory";
    } catch (const std::exception& e) {
        last_error = std::string(what) + ": " + e.what();
    } catch (...) {
        last_error = std::string(what) + ": unknown native error";
    }
    return 1;
}

faiss::Index* as_index(void* p) {
    if (p == nullptr) {
        throw std::invalid_argument("null index");
    }
    return static_cast<faiss::Index*>(p);
}

void require(bool condition, const char* message) {
    if (!condition) {
        throw std::invalid_argument(message);
    }
}

std::string class_name(const faiss::Index& index) {
    const char* mangled = typeid(index).name();
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> demangled(
            abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
    return status == 0 && demangled ? std::string(demangled.get()) : std::string(mangled);
}

// Factory-style text for the index types PatchCore uses; other types give their C++ class name.
std::string describe(const faiss::Index& index) {
    if (dynamic_cast<const faiss::IndexFlat*>(&index) != nullptr) {
        return "Flat";
    }
    if (auto* ivf = dynamic_cast<const faiss::IndexIVFFlat*>(&index)) {
        return "IVF" + std::to_string(ivf->nlist) + ",Flat";
    }
    if (auto* ivfpq = dynamic_cast<const faiss::IndexIVFPQ*>(&index)) {
        return "IVF" + std::to_string(ivfpq->nlist) + ",PQ" + std::to_string(ivfpq->pq.M) + "x" +
                std::to_string(ivfpq->pq.nbits);
    }
    if (auto* pq = dynamic_cast<const faiss::IndexPQ*>(&index)) {
        return "PQ" + std::to_string(pq->pq.M) + "x" + std::to_string(pq->pq.nbits);
    }
    if (auto* hnsw = dynamic_cast<const faiss::IndexHNSWFlat*>(&index)) {
        // Level 0 keeps 2*M neighbours, the upper levels M.
        return "HNSW" + std::to_string(hnsw->hnsw.nb_neighbors(1));
    }
    return class_name(index);
}

} // namespace

extern "C" {

PCF_API const char* pcf_last_error(void) {
    return last_error.c_str();
}

PCF_API int pcf_index_factory(int dimension, const char* description, void** out_index) {
    return guarded("index_factory", [&] {
        require(out_index != nullptr, "null output pointer");
        *out_index = nullptr;
        require(dimension > 0, "dimension must be positive");
        require(description != nullptr, "null factory string");
        *out_index = faiss::index_factory(dimension, description, faiss::METRIC_L2);
    });
}

PCF_API void pcf_index_free(void* index) {
    // Destructors of FAISS indexes do not throw; this stays noexcept for SafeHandle.ReleaseHandle.
    delete static_cast<faiss::Index*>(index);
}

PCF_API int pcf_index_dimension(void* index, int* out_dimension) {
    return guarded("dimension", [&] { *out_dimension = as_index(index)->d; });
}

PCF_API int pcf_index_ntotal(void* index, int64_t* out_ntotal) {
    return guarded("ntotal", [&] { *out_ntotal = as_index(index)->ntotal; });
}

PCF_API int pcf_index_is_trained(void* index, int* out_is_trained) {
    return guarded("is_trained", [&] { *out_is_trained = as_index(index)->is_trained ? 1 : 0; });
}

PCF_API int pcf_index_train(void* index, int64_t n, const float* vectors) {
    return guarded("train", [&] {
        faiss::Index* ix = as_index(index);
        require(n >= 0 && (n == 0 || vectors != nullptr), "bad training vectors");
        apply_thread_count();
        ix->train(n, vectors);
    });
}

PCF_API int pcf_index_add(void* index, int64_t n, const float* vectors) {
    return guarded("add", [&] {
        faiss::Index* ix = as_index(index);
        require(n >= 0 && (n == 0 || vectors != nullptr), "bad vectors");
        apply_thread_count();
        ix->add(n, vectors);
    });
}

PCF_API int pcf_index_search(void* index, int64_t n, const float* queries, int64_t k, float* distances, int64_t* labels) {
    return guarded("search", [&] {
        faiss::Index* ix = as_index(index);
        require(k >= 1, "k must be at least 1");
        require(n >= 0 && (n == 0 || (queries != nullptr && distances != nullptr && labels != nullptr)),
                "bad query or result buffers");
        apply_thread_count();
        ix->search(n, queries, k, distances, labels);
    });
}

PCF_API int pcf_index_set_parameter(void* index, const char* name, double value) {
    return guarded("set_parameter", [&] {
        faiss::Index* ix = as_index(index);
        require(name != nullptr, "null parameter name");
        // ParameterSpace knows where nprobe and efSearch live (through IndexPreTransform, IndexRefine, ...)
        // and throws when the parameter does not apply to this index.
        faiss::ParameterSpace().set_index_parameter(ix, name, value);
    });
}

PCF_API int pcf_index_describe(void* index, char** out_text) {
    return guarded("describe", [&] {
        require(out_text != nullptr, "null output pointer");
        *out_text = nullptr;
        std::string text = describe(*as_index(index));
        char* copy = static_cast<char*>(std::malloc(text.size() + 1));
        if (copy == nullptr) {
            throw std::bad_alloc();
        }
        std::memcpy(copy, text.c_str(), text.size() + 1);
        *out_text = copy;
    });
}

PCF_API int pcf_index_write_file(void* index, const char* path) {
    return guarded("write_index", [&] {
        require(path != nullptr, "null path");
        faiss::write_index(as_index(index), path);
    });
}

PCF_API int pcf_index_read_file(const char* path, void** out_index) {
    return guarded("read_index", [&] {
        require(out_index != nullptr, "null output pointer");
        *out_index = nullptr;
        require(path != nullptr, "null path");
        *out_index = faiss::read_index(path);
    });
}

PCF_API int pcf_index_serialize(void* index, uint8_t** out_buffer, size_t* out_size) {
    return guarded("serialize", [&] {
        require(out_buffer != nullptr && out_size != nullptr, "null output pointer");
        *out_buffer = nullptr;
        *out_size = 0;
        faiss::VectorIOWriter writer;
        faiss::write_index(as_index(index), &writer);
        // malloc(0) may return null: always ask for at least one byte.
        auto* buffer = static_cast<uint8_t*>(std::malloc(writer.data.size() > 0 ? writer.data.size() : 1));
        if (buffer == nullptr) {
            throw std::bad_alloc();
        }
        if (!writer.data.empty()) {
            std::memcpy(buffer, writer.data.data(), writer.data.size());
        }
        *out_buffer = buffer;
        *out_size = writer.data.size();
    });
}

PCF_API void pcf_buffer_free(void* buffer) {
    std::free(buffer);
}

PCF_API int pcf_index_deserialize(const uint8_t* buffer, size_t size, void** out_index) {
    return guarded("deserialize", [&] {
        require(out_index != nullptr, "null output pointer");
        *out_index = nullptr;
        require(buffer != nullptr || size == 0, "null buffer");
        faiss::VectorIOReader reader;
        reader.data.assign(buffer, buffer + size);
        *out_index = faiss::read_index(&reader);
    });
}

// Row-major C[m, n] = alpha * A[m, k] . B[n, k]^T + beta * C (the shape of a distance block: queries x bank rows).
// Column-major BLAS sees the same memory as C^T[n, m] = B^T . A, i.e. sgemm("T", "N", n, m, k) on B and A.
PCF_API int pcf_sgemm_nt(int m, int n, int k, float alpha, const float* a, const float* b, float beta, float* c) {
    return guarded("sgemm", [&] {
        require(m >= 0 && n >= 0 && k >= 1, "matrix sizes must be non-negative and k at least 1");
        require(a != nullptr && b != nullptr && c != nullptr, "null matrix");
        apply_thread_count();
        if (m == 0 || n == 0) {
            return;
        }
        sgemm_("T", "N", &n, &m, &k, &alpha, b, &k, a, &k, &beta, c, &n);
    });
}

// Principal components of n vectors [n, d_in] with FAISS's PCAMatrix (no whitening, no rotation): the mean [d_in],
// the first d_out orthonormal components by decreasing variance, row-major [d_out, d_in], and all d_in eigenvalues
// (variances, decreasing).
PCF_API int pcf_pca_train(int d_in, int d_out, int64_t n, const float* x, float* out_mean, float* out_components,
        float* out_eigenvalues) {
    return guarded("pca_train", [&] {
        require(d_in >= 1 && d_out >= 1 && d_out <= d_in, "need 1 <= d_out <= d_in");
        require(n >= 1 && x != nullptr, "no training vectors");
        require(out_mean != nullptr && out_components != nullptr && out_eigenvalues != nullptr, "null output");
        apply_thread_count();
        faiss::PCAMatrix pca(d_in, d_out, 0, false);
        pca.max_points_per_d = static_cast<size_t>(n);  // keep every vector given (the caller samples)
        pca.train(n, x);
        std::memcpy(out_mean, pca.mean.data(), sizeof(float) * d_in);
        std::memcpy(out_components, pca.A.data(), sizeof(float) * static_cast<size_t>(d_out) * d_in);
        std::fill(out_eigenvalues, out_eigenvalues + d_in, 0.0f);
        std::memcpy(out_eigenvalues, pca.eigenvalues.data(),
                sizeof(float) * std::min<size_t>(pca.eigenvalues.size(), static_cast<size_t>(d_in)));
    });
}

// k-means of n vectors [n, d] into k centroids [k, d] (FAISS Clustering: niter iterations, the given seed, at most
// 256 points per centroid sampled). Assignment of the vectors is left to the caller.
PCF_API int pcf_kmeans(int d, int64_t n, int k, const float* x, int niter, int seed, float* out_centroids) {
    return guarded("kmeans", [&] {
        require(d >= 1 && k >= 1 && n >= k, "need d >= 1 and n >= k >= 1");
        require(x != nullptr && out_centroids != nullptr, "null matrix");
        apply_thread_count();
        faiss::ClusteringParameters parameters;
        parameters.niter = niter;
        parameters.seed = seed;
        faiss::Clustering clustering(d, k, parameters);
        faiss::IndexFlatL2 assigner(d);
        clustering.train(n, x, assigner);
        std::memcpy(out_centroids, clustering.centroids.data(), sizeof(float) * static_cast<size_t>(k) * d);
    });
}

PCF_API int pcf_set_thread_count(int count) {
    return guarded("set_thread_count", [&] {
        require(count >= 1, "thread count must be at least 1");
        thread_count.store(count, std::memory_order_relaxed);
        omp_set_num_threads(count);
        // FAISS's flat search calls sgemm outside its OpenMP regions; the pthread OpenBLAS has its own pool.
        openblas_set_num_threads(count);
    });
}

PCF_API int pcf_get_thread_count(void) {
    int n = thread_count.load(std::memory_order_relaxed);
    return n > 0 ? n : omp_get_max_threads();
}

} // extern "C"
