using PatchCore.Core.Devices;
using PatchCore.Core.Embedding;
using PatchCore.Core.Imaging;

namespace PatchCore.Core;

/// <summary>What turns images into patch embeddings: backbone, weights, geometry, embedding, device and batching.</summary>
public sealed record ModelOptions
{
    public string Backbone { get; init; } = "resnet18";
    /// <summary>A torchvision checkpoint (.pth or .safetensors); null = the packaged ImageNet ResNet18.</summary>
    public string? WeightsPath { get; init; }
    public ImageGeometry Geometry { get; init; } = ImageGeometry.Default;
    public EmbeddingOptions Embedding { get; init; } = new();
    public DeviceKind Device { get; init; } = DeviceKind.Auto;
    /// <summary>Images per backbone batch; null = sized from the work budget.</summary>
    public int? BatchSize { get; init; }
    /// <summary>Bytes one batch or search chunk may use; null = from the device (free RAM or GPU memory).</summary>
    public long? WorkBudgetBytes { get; init; }
    /// <summary>Images larger than this many pixels are refused.</summary>
    public long MaxPixels { get; init; } = ImageDecoder.DefaultMaxPixels;
    /// <summary>Images decoded at once; null = one per processor.</summary>
    public int? DecodeParallelism { get; init; }

    /// <summary>The model a bank was built with (backbone, geometry, embedding), run with the caller's weights file and resources.</summary>
    internal static ModelOptions OfBank(MemoryBank.BankMetadata bank, string? weightsPath, DeviceKind device, int? batchSize, long? workBudgetBytes,
        long maxPixels, int? decodeParallelism) => new()
    {
        Backbone = bank.Backbone,
        WeightsPath = weightsPath,
        Geometry = bank.Geometry,
        Embedding = bank.Embedding,
        Device = device,
        BatchSize = batchSize,
        WorkBudgetBytes = workBudgetBytes,
        MaxPixels = maxPixels,
        DecodeParallelism = decodeParallelism,
    };

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Backbone)) throw new PatchCoreException("A backbone name is needed.");
        if (WeightsPath is not null && !File.Exists(WeightsPath))
            throw new PatchCoreException($"{WeightsPath}: weights file not found.");
        Geometry.Validate();
        Embedding.Validate();
        if (BatchSize is < 1 or > 1024) throw new PatchCoreException($"Batch size must be between 1 and 1024, got {BatchSize}.");
        if (WorkBudgetBytes is < (16L << 20)) throw new PatchCoreException($"Work budget must be at least 16 MiB, got {WorkBudgetBytes} bytes.");
        if (MaxPixels < 1) throw new PatchCoreException($"Pixel limit must be positive, got {MaxPixels}.");
        if (DecodeParallelism is < 1 or > 256) throw new PatchCoreException($"Decode parallelism must be between 1 and 256, got {DecodeParallelism}.");
    }
}
