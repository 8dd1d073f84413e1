using PatchCore.Core.Devices;
using TorchSharp;
using static TorchSharp.torch;

namespace PatchCore.Core.Sampling;

/// <summary>
/// The plain greedy loop as torch ops on a device (meant for CUDA; runs on the CPU too): the projected rows
/// and m live on the device, each step is argmax, a chunked distance update and a -1 mark, with no host
/// synchronisation until the end. Starts from the same m as the C# samplers (computed on the host); per-step
/// distances are torch's, so selections match the plain loop's except where two m values tie to float rounding.
/// Returns the selection and the largest m after the last centre, as the plain loop does.
/// </summary>
internal static class TorchGreedyCoreset
{
    /// <param name="initialM">Starting m [N] (<see cref="GreedyStart"/>).</param>
    public static (long[] Selected, float Largest) Select(float[] y, int n, int dim, int count, float[] initialM, Device device,
        IProgress<double>? progress, CancellationToken ct)
    {
        // Rows per update chunk: the [rows, P] difference and its square must fit the device's work budget.
        long chunkRows = Math.Min(n, Math.Max(1024, ComputeDevice.DefaultWorkBudgetBytes(device) / (3L * dim * sizeof(float))));
        var reporter = new ProgressReporter(progress, count);
        using var outer = NewDisposeScope();
        var rows = tensor(y, [n, dim]).to(device);  // [N, P]
        var m = tensor((float[])initialM.Clone()).to(device); // [N]; a copy: a CPU tensor may share the array it is made from
        var selected = zeros(count, ScalarType.Int64, device);
        var minusOne = tensor(-1f, device: device);
        for (int t = 0; t < count; t++)
        {
            ct.ThrowIfCancellationRequested();
            using var step = NewDisposeScope();
            var s = m.argmax().view(1);                     // [] -> [1]: the first maximal index, as the plain loop
            selected.index_copy_(0, tensor(new long[] { t }, device: device), s);
            m.index_put_(minusOne, s);
            var center = rows.index_select(0, s);          // [1, P]
            for (long a = 0; a < n; a += chunkRows)
            {
                long b = Math.Min(n, a + chunkRows);
                var part = m.narrow(0, a, b - a);
                var d = (rows.narrow(0, a, b - a) - center).square().sum(1).sqrt_(); // [rows, P] -> [rows]
                part.copy_(minimum(part, d));
            }
            reporter.Step(t + 1);
        }
        float largest = m.max().cpu().item<float>();
        return (selected.cpu().data<long>().ToArray(), Math.Max(0f, largest));
    }
}
