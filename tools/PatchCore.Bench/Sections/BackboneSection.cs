using System.Diagnostics;
using PatchCore.Core;
using PatchCore.Core.Imaging;
using TorchSharp;
using static TorchSharp.torch;
using PatchCore.Core.Embedding;

namespace PatchCore.Bench.Sections;

/// <summary>
/// 1. Backbone + embedding time per image at batch 1 and 8: <see cref="FeaturePipeline.Embed"/> on decoded training
/// images (decoding excluded), median of the timed runs after warm-up; then the same batch split into the backbone
/// (stem to layer3, hooked) and the patch embedding.
/// </summary>
internal sealed class BackboneSection : IBenchSection
{
    private const int Warmups = 2;
    private static readonly int[] BatchSizes = [1, 8];

    public string Name => "backbone";
    public string Title => "Backbone + embedding per image (resnet18, 224x224)";
    public bool NeedsData => true;

    public void Run(BenchContext context)
    {
        var pipeline = context.Pipeline;
        int runs = context.Settings.Repetitions;
        var paths = context.Category.TrainGood.Take(BatchSizes.Max()).ToArray();
        var decoded = paths.Select(p => pipeline.Decoder.Decode(p)).ToArray();
        try
        {
            var rows = new List<string[]>();
            foreach (int batch in BatchSizes)
            {
                var images = decoded.Take(batch).ToArray();
                Report.Progress($"backbone + embedding, batch {batch}: {Warmups} warm-up and {runs} timed runs");
                double[] total = Samples.Time(Warmups, runs, () => pipeline.Embed(images));
                var split = Enumerable.Range(0, runs).Select(_ => TimeSplit(pipeline, images)).ToArray();
                double perImage = 1000 * Samples.Median(total) / batch;
                rows.Add(
                [
                    batch.ToString(),
                    runs.ToString(),
                    Report.F(perImage, 1),
                    Report.F(1000 * total.Min() / batch, 1),
                    Report.F(1000 * Samples.Median(split.Select(s => s.Backbone).ToArray()) / batch, 1),
                    Report.F(1000 * Samples.Median(split.Select(s => s.Embedding).ToArray()) / batch, 1),
                    Report.F(1000 * Samples.Median(split.Select(s => s.Reference).ToArray()) / batch, 1),
                    Report.F(1000 / perImage, 1),
                ]);
            }
            Report.Table(["batch", "timed runs", "ms/image (median)", "ms/image (min)", "backbone ms/image", "embedding ms/image", "paper's sequence ms/image", "images/s"], rows);
            Report.Line($"Input {BenchSettings.Geometry}; {pipeline.Dimension}-D embeddings on a {pipeline.Extractor.Layer2Channels}/{pipeline.Extractor.Layer3Channels}-channel layer2/layer3 grid; device {pipeline.Device}.");
            Report.Line("ms/image covers FeaturePipeline.Embed: input tensor, backbone, embedding, copy to managed memory. The split columns time the backbone and the embedding alone (medians of separate runs);");
            Report.Line("\"paper's sequence\" times the same embedding computed as the paper's code does (unfold, upsample every unfolded channel, pool per patch), which the library's sparse linear map replaces.");
        }
        finally
        {
            foreach (var d in decoded) d.Dispose();
        }
    }

    // Orchestration only: the same calls FeaturePipeline.Embed makes, timed one by one.
    private static (double Backbone, double Embedding, double Reference) TimeSplit(FeaturePipeline pipeline, IReadOnlyList<DecodedImage> images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // [B, 3, H, W]
        Tensor input = InputTensor.Create(images, pipeline.Extractor.Preprocessing).to(pipeline.Device);
        long t0 = Stopwatch.GetTimestamp();
        var (layer2, layer3) = pipeline.Extractor.Extract(input);
        Synchronize(pipeline.Device);
        long t1 = Stopwatch.GetTimestamp();
        Tensor embeddings = pipeline.Embedder.Embed(layer2, layer3); // [B, L, D]
        Synchronize(pipeline.Device);
        long t2 = Stopwatch.GetTimestamp();
        Tensor reference = pipeline.Options.Embedding.Mode == EmbeddingMode.Paper ? pipeline.Embedder.EmbedPaperReference(layer2, layer3) : embeddings;
        Synchronize(pipeline.Device);
        long t3 = Stopwatch.GetTimestamp();
        return (Stopwatch.GetElapsedTime(t0, t1).TotalSeconds, Stopwatch.GetElapsedTime(t1, t2).TotalSeconds, Stopwatch.GetElapsedTime(t2, t3).TotalSeconds);
    }

    private static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }
}
