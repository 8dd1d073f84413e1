using PatchCore.Core.Backbones;
using PatchCore.Core.Devices;
using PatchCore.Core.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace PatchCore.Core.Embedding;

/// <summary>
/// Orchestrates file -> pixels -> backbone features -> patch embeddings: the decoder, the hooked backbone and the
/// embedder, with batch sizes from the work budget. Owns the backbone; dispose it.
/// </summary>
internal sealed class FeaturePipeline : IDisposable
{
    /// <summary>Without original pixels, a decode window holds this many backbone batches, so images of mixed sizes still batch well.</summary>
    private const int WindowBatches = 4;

    private readonly FeatureExtractor _extractor;
    private readonly SharedBackbones? _shared;

    /// <param name="shared">Where the backbone comes from when it is shared with other pipelines; null = its own.</param>
    public FeaturePipeline(ModelOptions options, SharedBackbones? shared = null)
    {
        options.Validate();
        Options = options;
        Device = ComputeDevice.Resolve(options.Device);
        _shared = shared;
        _extractor = shared?.Acquire(options.Backbone, options.WeightsPath, Device) ?? FeatureExtractor.Create(options.Backbone, options.WeightsPath, Device);
        Decoder = new ImageDecoder(options.Geometry, options.MaxPixels);
        Embedder = new PatchEmbedder(options.Embedding);
        Dimension = options.Embedding.OutputDimension(_extractor.Layer2Channels, _extractor.Layer3Channels);
        WorkBudgetBytes = options.WorkBudgetBytes ?? ComputeDevice.DefaultWorkBudgetBytes(Device);
        DecodeParallelism = options.DecodeParallelism ?? Environment.ProcessorCount;
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
    public int DecodeParallelism { get; }
    public long WorkBudgetBytes { get; }

    /// <summary>Embeds images that share one input size (at most <see cref="BatchSize"/> of them: see <see cref="DecodedWindow.Batches"/>).</summary>
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
    /// Decodes <paramref name="paths"/> in order, in windows that <see cref="DecodedWindow.Batches"/> cuts into backbone
    /// batches. With <paramref name="keepOriginals"/> (pixels kept for overlays) a window is one batch, so memory holds
    /// at most one batch of originals; without, a few batches of model-input pixels.
    /// </summary>
    public IEnumerable<DecodedWindow> DecodeWindows(IReadOnlyList<string> paths, bool keepOriginals, CancellationToken ct) =>
        DecodedWindow.Over(Decoder, paths, keepOriginals ? BatchSize : WindowBatches * BatchSize, keepOriginals, DecodeParallelism, ct);

    public void Dispose()
    {
        if (_shared is null) _extractor.Dispose();
        else _shared.Release(_extractor);
    }
}
