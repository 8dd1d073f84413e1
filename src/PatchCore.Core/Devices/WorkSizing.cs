namespace PatchCore.Core.Devices;

/// <summary>Batch and chunk sizes from a memory budget, so work stays bounded whatever the bank or input size.</summary>
internal static class WorkSizing
{
    /// <summary>Most images per backbone batch on a GPU.</summary>
    public const int MaxDeviceBatch = 16;

    /// <summary>
    /// Most images per backbone batch on the CPU. Measured on 2 cores (resnet18, 224x224, bottle build), batches of
    /// 1, 2, 4, 8 and 16 images embed at the same speed within noise (batch 1 was often the fastest), while every
    /// image in a batch adds about 45 MB of transient activations and unfolded patches. (Measured before the embedding
    /// became a grouped convolution and the backbone freed each stage's activations: batch 8 is now a little faster
    /// per image than batch 4, see the benchmark's backbone section, and an image costs less memory; the cap stays.)
    /// </summary>
    public const int MaxCpuBatch = 4;

    /// <summary>
    /// Images per backbone batch: an estimate of the bytes one image needs through the stem, layers 1-3 and the
    /// embedding (activations scale with input pixels and layer widths), divided into the budget; at most
    /// <paramref name="maxBatch"/> (<see cref="MaxCpuBatch"/> on the CPU, <see cref="MaxDeviceBatch"/> on a GPU).
    /// </summary>
    public static int BackboneBatchSize(long budgetBytes, int inputWidth, int inputHeight, int layer2Channels, int layer3Channels, int embeddingDimension,
        int maxBatch = MaxDeviceBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        double pixels = (double)inputWidth * inputHeight;
        double grid = pixels / 64.0;
        // stem + layer1 (64 ch at 1/4), layer2, layer3 activations, a few live at once; plus the unfolded and pooled embedding
        double activations = 4.0 * 4 * (64 * pixels / 4 + 2.0 * 64 * pixels / 16 + 2.0 * layer2Channels * pixels / 64 + 2.0 * layer3Channels * pixels / 256);
        double embedding = 4.0 * grid * (9.0 * (layer2Channels + layer3Channels) + 3.0 * embeddingDimension);
        double perImage = activations + 2 * embedding;
        return (int)Math.Clamp(budgetBytes / perImage, 1, maxBatch);
    }

    /// <summary>Query rows per nearest-neighbour search call: a query x bank distance block within the budget.</summary>
    public static int SearchChunkRows(long budgetBytes, long bankCount, int dimension)
    {
        double perRow = 4.0 * (bankCount + dimension) + 64;
        return (int)Math.Clamp(budgetBytes / perRow, 64, 65536);
    }
}
