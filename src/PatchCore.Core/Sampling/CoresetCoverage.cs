using System.Runtime.InteropServices;
using PatchCore.Core.Devices;
using TorchSharp;
using static TorchSharp.torch;

namespace PatchCore.Core.Sampling;

/// <summary>
/// Coverage radius of a selection in the full embedding space: max over candidates of the distance to the
/// nearest selected row. Chunked torch addmm (||x||^2 - 2 x.s + ||s||^2), candidates and selection in blocks,
/// so memory stays bounded for any N.
/// </summary>
internal static class CoresetCoverage
{
    private const int CandidateRows = 2048;

    public static double Radius(CandidateStore store, IReadOnlyList<long> selected, Device? device)
    {
        if (selected.Count == 0)
            throw new ArgumentException("The selection is empty: a coverage radius needs at least one selected row.", nameof(selected));
        device ??= CPU;
        int dim = store.Dimension;
        long selectedChunk = Math.Min(selected.Count, Math.Max(256, ComputeDevice.DefaultWorkBudgetBytes(device) / (4L * CandidateRows * sizeof(float))));
        float[] selectedRows = store.ReadRows(selected);
        using var outer = NewDisposeScope();
        var s = tensor(selectedRows, [selected.Count, dim]).to(device);   // [k, D]
        var sNorm = s.square().sum(1).unsqueeze(0);                       // [1, k]
        var halves = new Half[CandidateRows * dim];
        double radius = 0;
        for (long first = 0; first < store.Count; first += CandidateRows)
        {
            using var scope = NewDisposeScope();
            int n = (int)Math.Min(CandidateRows, store.Count - first);
            var span = halves.AsSpan(0, n * dim);
            store.ReadHalfRows(first, span);
            var xHalf = empty([n, dim], ScalarType.Float16);
            MemoryMarshal.AsBytes(span).CopyTo(xHalf.bytes);
            var x = xHalf.to_type(ScalarType.Float32).to(device);             // [n, D]
            var xNorm = x.square().sum(1, keepdim: true);                    // [n, 1]
            Tensor? best = null;
            for (long a = 0; a < selected.Count; a += selectedChunk)
            {
                long len = Math.Min(selectedChunk, selected.Count - a);
                // [n, 1] + [1, len] - 2 [n, D] x [D, len] -> [n, len]
                var d2 = addmm(xNorm + sNorm.narrow(1, a, len), x, s.narrow(0, a, len).t(), beta: 1, alpha: -2);
                var m = d2.amin([1]);
                best = best is null ? m : minimum(best, m);
            }
            radius = Math.Max(radius, best!.clamp_min(0).max().sqrt().cpu().item<float>());
        }
        return radius;
    }
}
