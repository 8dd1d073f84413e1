using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PatchCore.Core.Embedding;

/// <summary>
/// The maths of locally aware patch embeddings (no I/O, no state beyond options): hooked layer2 and layer3 maps
/// in, one embedding per layer2 grid cell out.
/// </summary>
internal sealed class PatchEmbedder
{
    private PaperEmbeddingPlan? _plan;

    public PatchEmbedder(EmbeddingOptions options)
    {
        options.Validate();
        Options = options;
    }

    public EmbeddingOptions Options { get; }

    /// <summary>
    /// layer2 [B, C2, H2, W2] and layer3 [B, C3, H3, W3] -> embeddings [B, H2*W2, D] (row-major over the grid).
    /// Tensors are created in the caller's dispose scope.
    /// </summary>
    public Tensor Embed(Tensor layer2, Tensor layer3)
    {
        if (layer2.dim() != 4 || layer3.dim() != 4 || layer2.shape[0] != layer3.shape[0])
            throw new ArgumentException($"Expected layer2 [B,C,H,W] and layer3 [B,C,H,W] with the same B, got [{string.Join(",", layer2.shape)}] and [{string.Join(",", layer3.shape)}].");
        return Options.Mode == EmbeddingMode.Concat ? EmbedConcat(layer2, layer3) : EmbedPaper(layer2, layer3);
    }

    /// <summary>
    /// The paper's embedding computed as what it is, a fixed sparse linear map: unfolding, per-layer adaptive average
    /// pooling over channels and the final pooling over the stacked layers are all linear in the features, so every
    /// output channel is a weighted sum of a few unfolded channels (<see cref="PaperEmbeddingPlan"/>), and a weighted sum
    /// of unfolded channels is a convolution of the layer itself (<see cref="GroupedWindowMix"/>). Bilinear upsampling
    /// acts on each channel alone, so it commutes with that channel mixing: layer3's share is mixed at its own 14x14
    /// grid and only the mixed channels are upsampled. Equal to <see cref="EmbedPaperReference"/> to float rounding;
    /// many times cheaper, because nothing is unfolded, the unfolded layer3 is never upsampled and nothing is pooled
    /// per patch.
    /// </summary>
    private Tensor EmbedPaper(Tensor layer2, Tensor layer3)
    {
        long b = layer2.shape[0], h2 = layer2.shape[2], w2 = layer2.shape[3];
        var plan = PlanFor((int)layer2.shape[1], (int)layer3.shape[1]);
        using var scope = NewDisposeScope();
        // every output channel is the sum of its layer2 and layer3 shares, each layer's rows consecutive:
        // [B, H2, W2, D], channel last like the backbone's maps and the result
        Tensor output = zeros([b, h2, w2, Options.TargetDimension], dtype: layer2.dtype, device: layer2.device);
        if (plan.Layer2.Rows > 0)
        {
            // [B, C2, H2, W2] -> [B, R2, H2, W2] -> [B, H2, W2, R2]
            output.narrow(3, plan.Layer2.FirstRow, plan.Layer2.Rows).add_(plan.Layer2.Apply(layer2).permute(0, 2, 3, 1));
        }
        if (plan.Layer3.Rows > 0)
        {
            // [B, C3, H3, W3] -> [B, R3, H3, W3] -> bilinear -> [B, R3, H2, W2] -> [B, H2, W2, R3]
            Tensor m3 = F.interpolate(plan.Layer3.Apply(layer3), [h2, w2], mode: InterpolationMode.Bilinear, align_corners: false);
            output.narrow(3, plan.Layer3.FirstRow, plan.Layer3.Rows).add_(m3.permute(0, 2, 3, 1));
        }
        // [B, H2, W2, D] -> [B, L, D]
        return output.view(b, h2 * w2, Options.TargetDimension).MoveToOuterDisposeScope();
    }

    private PaperEmbeddingPlan PlanFor(int layer2Channels, int layer3Channels)
    {
        var plan = _plan;
        if (plan is null || plan.Layer2Channels != layer2Channels || plan.Layer3Channels != layer3Channels)
            _plan = plan = PaperEmbeddingPlan.Create(layer2Channels, layer3Channels, Options.PatchSize, Options.PretrainDimension, Options.TargetDimension);
        return plan;
    }

    /// <summary>The paper's code as written (unfold, upsample every unfolded channel, pool per patch): the reference the plan must equal.</summary>
    internal Tensor EmbedPaperReference(Tensor layer2, Tensor layer3)
    {
        long b = layer2.shape[0], h2 = layer2.shape[2], w2 = layer2.shape[3];
        int p = Options.PatchSize, pad = p / 2;
        using var scope = NewDisposeScope();

        // Unfold each p x p neighbourhood (zero padding): [B, C, H, W] -> [B, C*p*p, H*W], channel-major.
        Tensor u2 = F.unfold(layer2, p, padding: pad, stride: 1);
        Tensor u3 = F.unfold(layer3, p, padding: pad, stride: 1);

        // layer3's unfolded patches are upsampled to layer2's grid, element by element as the paper's code does:
        // [B, C3*p*p, H3*W3] -> [B, C3*p*p, H3, W3] -> bilinear -> [B, C3*p*p, H2, W2] -> [B, C3*p*p, H2*W2]
        u3 = u3.view(b, u3.shape[1], layer3.shape[2], layer3.shape[3]);
        u3 = F.interpolate(u3, [h2, w2], mode: InterpolationMode.Bilinear, align_corners: false);
        u3 = u3.view(b, u3.shape[1], h2 * w2);

        // Per layer: [B, C*p*p, L] -> [B*L, 1, C*p*p] -> adaptive average pool -> [B*L, Dpre]
        Tensor e2 = PoolPerPatch(u2, Options.PretrainDimension);
        Tensor e3 = PoolPerPatch(u3, Options.PretrainDimension);

        // Stack layers: [B*L, 2, Dpre] -> [B*L, 1, 2*Dpre] -> adaptive average pool -> [B*L, D]
        Tensor stacked = stack([e2, e3], dim: 1).reshape(e2.shape[0], 1, -1);
        Tensor pooled = F.adaptive_avg_pool1d(stacked, Options.TargetDimension);

        // [B*L, 1, D] -> [B, L, D]
        return pooled.reshape(b, h2 * w2, Options.TargetDimension).contiguous().MoveToOuterDisposeScope();
    }

    private static Tensor PoolPerPatch(Tensor unfolded, int dimension)
    {
        long b = unfolded.shape[0], features = unfolded.shape[1], l = unfolded.shape[2];
        // [B, F, L] -> [B, L, F] -> [B*L, 1, F]
        Tensor perPatch = unfolded.permute(0, 2, 1).reshape(b * l, 1, features);
        // [B*L, 1, F] -> [B*L, 1, dimension] -> [B*L, dimension]
        return F.adaptive_avg_pool1d(perPatch, dimension).reshape(b * l, dimension);
    }

    private Tensor EmbedConcat(Tensor layer2, Tensor layer3)
    {
        long b = layer2.shape[0], h2 = layer2.shape[2], w2 = layer2.shape[3];
        int p = Options.PatchSize, pad = p / 2;
        using var scope = NewDisposeScope();
        // 3x3 mean per position (zero padding counted, as AvgPool2d does by default): shapes unchanged.
        Tensor a2 = F.avg_pool2d(layer2, p, stride: 1, padding: pad);
        Tensor a3 = F.avg_pool2d(layer3, p, stride: 1, padding: pad);
        // [B, C3, H3, W3] -> [B, C3, H2, W2]
        a3 = F.interpolate(a3, [h2, w2], mode: InterpolationMode.Bilinear, align_corners: false);
        // [B, C2+C3, H2, W2] -> [B, H2*W2, C2+C3]
        Tensor cat = torch.cat([a2, a3], dim: 1);
        return cat.permute(0, 2, 3, 1).reshape(b, h2 * w2, cat.shape[1]).contiguous().MoveToOuterDisposeScope();
    }
}
