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
        var (w, h) = options.Geometry.NominalBackboneInput();
        int maxBatch = Device.type == DeviceType.CPU ? WorkSizing.MaxCpuBatch : WorkSizing.MaxDeviceBatch;
        BatchSize = options.BatchSize ?? WorkSizing.BackboneBatchSize(WorkBudgetBytes, w, h, _extractor.Layer2Channels, _extractor.Layer3Channels, Dimension, maxBatch);
    }

    public ModelOptions Options { get; }
    public torch.Device Device { get; }
    public ImageDecoder Decoder { get; }
    public PatchEmbedder Embedder { get; }
    public FeatureExtractor Extractor => _extractor;
    public int Dimension { get; }
    /// <summary>Backbone inputs per backbone run: images, or tiles when the geometry tiles.</summary>
    public int BatchSize { get; }
    public int DecodeParallelism { get; }
    public long WorkBudgetBytes { get; }

    /// <summary>
    /// Embeds images that share one input size (batches from <see cref="Batches"/>). With tiling each image is cut into
    /// its tiles (<see cref="ImageGeometry.Tile"/>), the tiles of all images go through the backbone together, at most
    /// <see cref="BatchSize"/> per run, and the result holds every image's tiles one after another. Dispose the result.
    /// </summary>
    public EmbeddedBatch Embed(IReadOnlyList<DecodedImage> images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // [B, 3, H, W] preprocessed as the backbone's weights expect
        Tensor input = InputTensor.Create(images, _extractor.Preprocessing);
        TileLayout? tiles = Options.Geometry.Tile?.Layout(images[0].InputWidth, images[0].InputHeight);
        // [N, 3, h, w]: the images, or their tiles (N = B * tiles, image by image)
        Tensor inputs = tiles is null ? input : tiles.Cut(input);
        long n = inputs.shape[0];
        int run = tiles is null ? (int)n : BatchSize;
        var parts = new List<Tensor>();
        long gridHeight = 0, gridWidth = 0;
        for (long start = 0; start < n; start += run)
        {
            // each run's activations are freed before the next
            using var runScope = NewDisposeScope();
            var (layer2, layer3) = _extractor.Extract(inputs.narrow(0, start, Math.Min(run, n - start)).to(Device));
            (gridHeight, gridWidth) = (layer2.shape[2], layer2.shape[3]);
            // [n, L, D] with L = H2 * W2
            parts.Add(Embedder.Embed(layer2, layer3).cpu().MoveToOuterDisposeScope());
        }
        // [N, L, D], handed over to the batch (read in place, never copied to managed memory)
        Tensor embeddings = (parts.Count == 1 ? parts[0] : cat(parts, 0)).contiguous().DetachFromDisposeScope();
        return new EmbeddedBatch(embeddings, images.Count, (int)gridWidth, (int)gridHeight, (int)embeddings.shape[2], tiles);
    }

    /// <summary>
    /// A window's inputs as batches for <see cref="Embed"/>: images of one input size together, at most
    /// <see cref="BatchSize"/> of them, or with tiling as many as give about <see cref="BatchSize"/> tiles (at least one image).
    /// </summary>
    public IEnumerable<DecodedInput[]> Batches(DecodedWindow window) =>
        window.Batches((w, h) => Options.Geometry.Tile is { } tile ? Math.Max(1, BatchSize / tile.Layout(w, h).Count) : BatchSize);

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
