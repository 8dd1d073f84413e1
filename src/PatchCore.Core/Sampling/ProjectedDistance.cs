using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PatchCore.Core.Sampling;

/// <summary>
/// Euclidean distance between projected rows, written by hand with Vector512/Vector256 because the greedy
/// loops call it billions of times on short (128-float) rows where a library call per pair would cost more
/// than the arithmetic, and because every sampler must get bit-identical results for the same pair:
/// the fast sampler's exactness against the plain loop rests on both using exactly this sequence of
/// operations (two interleaved FMA accumulators, a fixed reduction tree, scalar tail, square root).
/// <see cref="Distance4"/> runs four independent copies of the same sequence to hide FMA latency and reduces
/// the four sums together; per lane it is the same tree, so the bits are the same.
/// </summary>
internal static class ProjectedDistance
{
    public static float Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        Distance(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), a.Length);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Distance(ref float a, ref float b, int dim)
    {
        int k = 0;
        float sum;
        if (Vector512.IsHardwareAccelerated)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; k + 32 <= dim; k += 32)
            {
                var d0 = Vector512.LoadUnsafe(ref a, (nuint)k) - Vector512.LoadUnsafe(ref b, (nuint)k);
                var d1 = Vector512.LoadUnsafe(ref a, (nuint)(k + 16)) - Vector512.LoadUnsafe(ref b, (nuint)(k + 16));
                acc0 = Vector512.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector512.FusedMultiplyAdd(d1, d1, acc1);
            }
            for (; k + 16 <= dim; k += 16)
            {
                var d0 = Vector512.LoadUnsafe(ref a, (nuint)k) - Vector512.LoadUnsafe(ref b, (nuint)k);
                acc0 = Vector512.FusedMultiplyAdd(d0, d0, acc0);
            }
            sum = Reduce(Fold(acc0 + acc1));
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; k + 16 <= dim; k += 16)
            {
                var d0 = Vector256.LoadUnsafe(ref a, (nuint)k) - Vector256.LoadUnsafe(ref b, (nuint)k);
                var d1 = Vector256.LoadUnsafe(ref a, (nuint)(k + 8)) - Vector256.LoadUnsafe(ref b, (nuint)(k + 8));
                acc0 = Vector256.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector256.FusedMultiplyAdd(d1, d1, acc1);
            }
            for (; k + 8 <= dim; k += 8)
            {
                var d0 = Vector256.LoadUnsafe(ref a, (nuint)k) - Vector256.LoadUnsafe(ref b, (nuint)k);
                acc0 = Vector256.FusedMultiplyAdd(d0, d0, acc0);
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        else
        {
            sum = 0f;
        }
        for (; k < dim; k++)
        {
            float d = Unsafe.Add(ref a, k) - Unsafe.Add(ref b, k);
            sum = MathF.FusedMultiplyAdd(d, d, sum);
        }
        return MathF.Sqrt(sum);
    }

    /// <summary>Distances from <paramref name="x"/> to four rows; each result equals <see cref="Distance(ref float, ref float, int)"/> bit for bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Distance4(ref float x, ref float c0, ref float c1, ref float c2, ref float c3, int dim,
        out float r0, out float r1, out float r2, out float r3)
    {
        if (!Vector512.IsHardwareAccelerated || (dim & 31) != 0)
        {
            // Same per-pair sequence, just not interleaved (rare shapes or no AVX-512).
            r0 = Distance(ref x, ref c0, dim);
            r1 = Distance(ref x, ref c1, dim);
            r2 = Distance(ref x, ref c2, dim);
            r3 = Distance(ref x, ref c3, dim);
            return;
        }
        var a00 = Vector512<float>.Zero; var a01 = Vector512<float>.Zero;
        var a10 = Vector512<float>.Zero; var a11 = Vector512<float>.Zero;
        var a20 = Vector512<float>.Zero; var a21 = Vector512<float>.Zero;
        var a30 = Vector512<float>.Zero; var a31 = Vector512<float>.Zero;
        for (int k = 0; k < dim; k += 32)
        {
            var x0 = Vector512.LoadUnsafe(ref x, (nuint)k);
            var x1 = Vector512.LoadUnsafe(ref x, (nuint)(k + 16));
            var d = x0 - Vector512.LoadUnsafe(ref c0, (nuint)k); a00 = Vector512.FusedMultiplyAdd(d, d, a00);
            d = x1 - Vector512.LoadUnsafe(ref c0, (nuint)(k + 16)); a01 = Vector512.FusedMultiplyAdd(d, d, a01);
            d = x0 - Vector512.LoadUnsafe(ref c1, (nuint)k); a10 = Vector512.FusedMultiplyAdd(d, d, a10);
            d = x1 - Vector512.LoadUnsafe(ref c1, (nuint)(k + 16)); a11 = Vector512.FusedMultiplyAdd(d, d, a11);
            d = x0 - Vector512.LoadUnsafe(ref c2, (nuint)k); a20 = Vector512.FusedMultiplyAdd(d, d, a20);
            d = x1 - Vector512.LoadUnsafe(ref c2, (nuint)(k + 16)); a21 = Vector512.FusedMultiplyAdd(d, d, a21);
            d = x0 - Vector512.LoadUnsafe(ref c3, (nuint)k); a30 = Vector512.FusedMultiplyAdd(d, d, a30);
            d = x1 - Vector512.LoadUnsafe(ref c3, (nuint)(k + 16)); a31 = Vector512.FusedMultiplyAdd(d, d, a31);
        }
        var sums = Reduce4(Fold(a00 + a01), Fold(a10 + a11), Fold(a20 + a21), Fold(a30 + a31));
        var roots = Vector128.Sqrt(sums); // correctly rounded, like MathF.Sqrt
        r0 = roots.GetElement(0);
        r1 = roots.GetElement(1);
        r2 = roots.GetElement(2);
        r3 = roots.GetElement(3);
    }

    /// <summary>512 -> 128 bits: (lower 256 + upper 256), then (lower 128 + upper 128).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Fold(Vector512<float> v)
    {
        var h = v.GetLower() + v.GetUpper();
        return h.GetLower() + h.GetUpper();
    }

    /// <summary>The canonical last step: (q0 + q2) + (q1 + q3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce(Vector128<float> q) =>
        (q.GetElement(0) + q.GetElement(2)) + (q.GetElement(1) + q.GetElement(3));

    /// <summary><see cref="Reduce"/> of four vectors at once: lane j is (qj0 + qj2) + (qj1 + qj3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Reduce4(Vector128<float> q0, Vector128<float> q1, Vector128<float> q2, Vector128<float> q3)
    {
        if (Sse.IsSupported)
        {
            var ab = Sse.UnpackLow(q0, q1) + Sse.UnpackHigh(q0, q1); // [q00+q02, q10+q12, q01+q03, q11+q13]
            var cd = Sse.UnpackLow(q2, q3) + Sse.UnpackHigh(q2, q3); // [q20+q22, q30+q32, q21+q23, q31+q33]
            return Sse.MoveLowToHigh(ab, cd) + Sse.MoveHighToLow(cd, ab);
        }
        return Vector128.Create(Reduce(q0), Reduce(q1), Reduce(q2), Reduce(q3));
    }
}
