namespace PatchCore.Core.Embedding;

/// <summary>How hooked layer2/layer3 maps become one locally aware embedding per layer2 grid cell.</summary>
public sealed record EmbeddingOptions
{
    public EmbeddingMode Mode { get; init; } = EmbeddingMode.Paper;
    /// <summary>Neighbourhood size of the local aggregation (stride 1, padding size/2).</summary>
    public int PatchSize { get; init; } = 3;
    /// <summary>Per-layer dimension after the first adaptive average pooling (Paper mode).</summary>
    public int PretrainDimension { get; init; } = 1024;
    /// <summary>Final embedding dimension (Paper mode).</summary>
    public int TargetDimension { get; init; } = 1024;

    public void Validate()
    {
        if (PatchSize < 1 || PatchSize % 2 == 0) throw new PatchCoreException($"Patch size must be odd and positive, got {PatchSize}.");
        if (PretrainDimension < 1) throw new PatchCoreException($"Pre-projection dimension must be positive, got {PretrainDimension}.");
        if (TargetDimension < 1) throw new PatchCoreException($"Target dimension must be positive, got {TargetDimension}.");
    }

    /// <summary>Embedding dimension for the given layer2/layer3 channel counts.</summary>
    public int OutputDimension(int layer2Channels, int layer3Channels) =>
        Mode == EmbeddingMode.Concat ? layer2Channels + layer3Channels : TargetDimension;
}
