namespace PatchCore.Core.Embedding;

public enum EmbeddingMode
{
    /// <summary>The paper's code: 3x3 patches unfolded, layer3 upsampled, per-layer and final adaptive average pooling.</summary>
    Paper,
    /// <summary>anomalib's: 3x3 average pooling per layer, layer3 upsampled, channels concatenated (384-D for ResNet18).</summary>
    Concat,
}
