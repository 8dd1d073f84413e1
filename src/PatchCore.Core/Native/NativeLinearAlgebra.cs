namespace PatchCore.Core.Native;

/// <summary>
/// The dense linear algebra the projected searches need, done by the libraries the FAISS shim already links:
/// OpenBLAS's sgemm (several times faster here than libtorch's CPU matmul on the same shapes), FAISS's PCAMatrix and
/// FAISS's k-means.
/// </summary>
internal static unsafe class NativeLinearAlgebra
{
    /// <summary>Row-major c[m, n] = alpha * a[m, k] . b[n, k]^T + beta * c.</summary>
    public static void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, float alpha = 1f, float beta = 0f)
    {
        if (a.Length < (long)m * k || b.Length < (long)n * k || c.Length < (long)m * n)
            throw new ArgumentException($"Spans too short for [{m}, {k}] . [{n}, {k}]^T -> [{m}, {n}].");
        fixed (float* pa = a, pb = b, pc = c)
            FaissException.ThrowIfFailed(FaissNativeMethods.SgemmNt(m, n, k, alpha, pa, pb, beta, pc), $"sgemm [{m}, {k}] x [{n}, {k}]^T");
    }

    /// <summary>Principal components of the rows of x [n, dIn]: mean [dIn], components [dOut, dIn] (orthonormal rows, by decreasing variance), variances [dIn].</summary>
    public static (float[] Mean, float[] Components, float[] Variances) Pca(ReadOnlySpan<float> x, int n, int dIn, int dOut)
    {
        if (x.Length < (long)n * dIn)
            throw new ArgumentException($"{x.Length} values are fewer than {n} x {dIn}.", nameof(x));
        var mean = new float[dIn];
        var components = new float[(long)dOut * dIn];
        var variances = new float[dIn];
        fixed (float* px = x, pm = mean, pc = components, pv = variances)
            FaissException.ThrowIfFailed(FaissNativeMethods.PcaTrain(dIn, dOut, n, px, pm, pc, pv), $"FAISS PCA of {n} x {dIn} to {dOut}");
        return (mean, components, variances);
    }

    /// <summary>k-means centroids [k, d] of the rows of x [n, d] (n at least k).</summary>
    public static float[] KMeans(ReadOnlySpan<float> x, int n, int d, int k, int iterations = 20, int seed = 1234)
    {
        if (x.Length < (long)n * d)
            throw new ArgumentException($"{x.Length} values are fewer than {n} x {d}.", nameof(x));
        var centroids = new float[(long)k * d];
        fixed (float* px = x, pc = centroids)
            FaissException.ThrowIfFailed(FaissNativeMethods.KMeans(d, n, k, px, iterations, seed, pc), $"FAISS k-means of {n} x {d} into {k}");
        return centroids;
    }
}
