using static TorchSharp.torch;

namespace PatchCore.Core.Embedding;

/// <summary>
/// The paper's embedding as a sparse linear map (the maths of <see cref="PatchEmbedder"/>'s paper mode). For one layer
/// the unfolded feature is u = [C*p*p] (channel-major: index c*p*p + k, k the position in the p x p window); it is
/// pooled to Dpre values by adaptive average pooling, the two layers' pooled vectors are stacked to 2*Dpre values and
/// pooled again to D. Adaptive average pooling of n values to m takes, for output i, the mean of inputs
/// [floor(i*n/m), ceil((i+1)*n/m)): a fixed matrix. So output j is sum over unfolded channels of w_j * u, with a
/// handful of non-zero weights per output (about 2*(C*p*p)/D per layer): that is all <see cref="Create"/> computes,
/// once per layer width, and <see cref="GroupedWindowMix"/> applies it to the layer's map without unfolding it.
/// </summary>
internal sealed class PaperEmbeddingPlan
{
    private PaperEmbeddingPlan(int layer2Channels, int layer3Channels, GroupedWindowMix layer2, GroupedWindowMix layer3)
    {
        Layer2Channels = layer2Channels;
        Layer3Channels = layer3Channels;
        Layer2 = layer2;
        Layer3 = layer3;
    }

    public int Layer2Channels { get; }
    public int Layer3Channels { get; }
    /// <summary>The output channels layer2 contributes to, and from which of its unfolded channels.</summary>
    public GroupedWindowMix Layer2 { get; }
    public GroupedWindowMix Layer3 { get; }

    public static PaperEmbeddingPlan Create(int layer2Channels, int layer3Channels, int patchSize, int pretrainDimension, int targetDimension)
    {
        int window = patchSize * patchSize;
        int f2 = layer2Channels * window, f3 = layer3Channels * window;
        var w2 = new Dictionary<int, double>[targetDimension];
        var w3 = new Dictionary<int, double>[targetDimension];
        for (int j = 0; j < targetDimension; j++)
        {
            w2[j] = new Dictionary<int, double>();
            w3[j] = new Dictionary<int, double>();
            var (start, end) = Bin(j, 2 * pretrainDimension, targetDimension);
            foreach (int s in Enumerable.Range(start, end - start))
            {
                // stacked value s: layer2's pooled value s, or layer3's pooled value s - Dpre
                bool fromLayer2 = s < pretrainDimension;
                var (from, to) = Bin(fromLayer2 ? s : s - pretrainDimension, fromLayer2 ? f2 : f3, pretrainDimension);
                double weight = 1.0 / (end - start) / (to - from);
                var target = fromLayer2 ? w2[j] : w3[j];
                for (int e = from; e < to; e++) target[e] = target.GetValueOrDefault(e) + weight;
            }
        }
        return new PaperEmbeddingPlan(layer2Channels, layer3Channels, GroupedWindowMix.From(w2, layer2Channels, patchSize), GroupedWindowMix.From(w3, layer3Channels, patchSize));
    }

    /// <summary>The inputs [start, end) that adaptive average pooling of <paramref name="inputs"/> values to <paramref name="outputs"/> averages for output <paramref name="i"/>.</summary>
    internal static (int Start, int End) Bin(int i, int inputs, int outputs) =>
        ((int)((long)i * inputs / outputs), (int)(((long)(i + 1) * inputs + outputs - 1) / outputs));
}
