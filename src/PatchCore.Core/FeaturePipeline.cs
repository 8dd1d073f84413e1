using PatchCore.Core.Backbones;
using PatchCore.Core.Devices;
using PatchCore.Core.Embedding;
using PatchCore.Core.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace PatchCore.Core;

/// <summary>Patch embeddings of one batch, row-major [Count, GridHeight * GridWidth, Dimension].</summary>
public sealed record EmbeddedBatch(float[] Values, int Count, int GridWidth, int GridHeight, int Dimension)
{
    public int PatchesPerImage => GridWidth * GridHeight;
}

/// <summary>
/// Orchestrates file -> pixels -> backbone features -> patch embeddings: the decoder, the hooked backbone and the
/// embedder, with batch sizes from the work budget. Owns the backbone; dispose it.
/// </summary>
public sealed class FeaturePipeline : IDisposable
{
    private readonly FeatureExtractor _extractor;

    public FeaturePipeline(ModelOptions options)
    {
        options.Validate();
        Options = options;
        Device = ComputeDevice.Resolve(options.Device);
        _extractor = FeatureExtractor.Create(options.Backbone, options.WeightsPath, Device);
        Decoder = new ImageDecoder(options.Geometry, options.MaxPixels);
        Embedder = new PatchEmbedder(options.Embedding);
        Dimension = options.Embedding.OutputDimension(_extractor.Layer2Channels, _extractor.Layer3Channels);
        WorkBudgetBytes = options.WorkBudgetBytes ?? ComputeDevice.DefaultWorkBudgetBytes(Device);
        var (w, h) = options.Geometry.Crop is int c ? (c, c) : (options.Geometry.Width ?? options.Geometry.ShorterSide!.Value, options.Geometry.Height ?? options.Geometry.ShorterSide!.Value);
        int maxBatch = Device.type == DeviceType.CPU ? WorkSizing.MaxCpuBatch : WorkSizing.MaxDeviceBatch;
        BatchSize = options.BatchSize ?? WorkSizing.BackboneBatchSize(WorkBudgetBytes, w, h, _extractor.Layer2Channels, _extractor.Layer3Channels, Dimension, maxBatch);
    }

    public ModelOptions Options { get; }
    public torch.Device Device { get; }
    public ImageDecoder Decoder { get; }
    public PatchEmbedder Embedder { get; }
    public FeatureExtractor Extractor => _extractor;
    public int Dimension { get; }
    public int BatchSize { get; }
    public long WorkBudgetBytes { get; }

    /// <summary>Embeds images that share one input size (split larger lists into <see cref="BatchSize"/> first).</summary>
    public EmbeddedBatch Embed(IReadOnlyList<DecodedImage> images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // [B, 3, H, W] preprocessed as the backbone's weights expect
        Tensor input = InputTensor.Create(images, _extractor.Preprocessing).to(Device);
        var (layer2, layer3) = _extractor.Extract(input);
        // [B, L, D] with L = H2 * W2
        Tensor embeddings = Embedder.Embed(layer2, layer3);
        float[] values = embeddings.cpu().contiguous().data<float>().ToArray();
        return new EmbeddedBatch(values, images.Count, (int)layer2.shape[3], (int)layer2.shape[2], (int)embeddings.shape[2]);
    }

    /// <summary>
    /// Decodes paths with bounded parallelism, in order, yielding batches of at most <see cref="BatchSize"/> images
    /// of one input size. Decoding of the next batch overlaps nothing: memory holds one batch of pixels at a time.
    /// </summary>
    public IEnumerable<IReadOnlyList<DecodedImage>> DecodeBatches(IReadOnlyList<string> paths, bool keepOriginal = false, CancellationToken ct = default)
    {
        for (int start = 0; start < paths.Count; start += BatchSize)
        {
            ct.ThrowIfCancellationRequested();
            int n = Math.Min(BatchSize, paths.Count - start);
            var decoded = new DecodedImage[n];
            try
            {
                Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct },
                    i => decoded[i] = Decoder.Decode(paths[start + i], keepOriginal));
            }
            catch (AggregateException ex)
            {
                foreach (var d in decoded) d?.Dispose();
                var first = ex.Flatten().InnerExceptions.OrderBy(e => e is ImageLoadException l ? l.FilePath : "", StringComparer.Ordinal).First();
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
                throw;
            }
            foreach (var group in decoded.GroupBy(d => (d.InputWidth, d.InputHeight)))
                yield return group.ToArray();
        }
    }

    public void Dispose() => _extractor.Dispose();
}
