using System.Diagnostics;
using PatchCore.Core;
using PatchCore.Core.Imaging;
using TorchSharp;
using static TorchSharp.torch;
using PatchCore.Core.Embedding;
using PatchCore.Core.Devices;

namespace PatchCore.Bench.Sections;

/// <summary>
/// 1. The feature path per image at batch 1, 2, 4 and 8: <see cref="FeaturePipeline.Embed"/> on decoded training
/// images (decoding excluded), median of the timed runs after a warm-up of the process at every batch size, against issue 16's goal (at most 15 ms per
/// image at the best batch, no batch slower per image than batch 1); then the same batch split into the backbone
/// (stem to layer3, folded) and the patch embedding. The load average is printed on every row: on a shared 2-core
/// machine it moves the figures more than most changes do.
/// </summary>
internal sealed class BackboneSection : IBenchSection
{
    private const int Warmups = 2;
    private static readonly int[] BatchSizes = [1, 2, 4, 8];
    /// <summary>Issue 16's goal for the feature path (input tensor to paper-mode embeddings, 224x224), ms per image.</summary>
    private const double GoalMs = 15;

    public string Name => "backbone";
    public string Title => "Feature path per image: backbone + embedding (resnet18, 224x224)";
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
            var perImageByBatch = new Dictionary<int, double>();
            // The process warms up first at every batch size (heap growth, oneDNN's kernels per shape): without it the first
            // batch size timed, batch 1, absorbed that and measured 30-70 ms per image against 17 ms when timed last.
            Report.Progress($"process warm-up: {Warmups} runs at each batch size");
            foreach (int batch in BatchSizes)
                Samples.Time(Warmups, 0, () => pipeline.Embed(decoded.Take(batch).ToArray()).Dispose());
            foreach (int batch in BatchSizes)
            {
                var images = decoded.Take(batch).ToArray();
                Report.Progress($"backbone + embedding, batch {batch}: {Warmups} warm-up and {runs} timed runs");
                double[] total = Samples.Time(Warmups, runs, () => pipeline.Embed(images).Dispose());
                var split = Enumerable.Range(0, runs).Select(_ => TimeSplit(pipeline, images)).ToArray();
                double perImage = 1000 * Samples.Median(total) / batch;
                perImageByBatch[batch] = perImage;
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
                    perImage <= GoalMs ? "met" : "not met",
                    MachineInfo.LoadAverage(),
                ]);
            }
            Report.Table(["batch", "timed runs", "ms/image (median)", "ms/image (min)", "backbone ms/image", "embedding ms/image", "paper's sequence ms/image", "images/s", $"goal <= {GoalMs:0} ms", "load 1/5/15"], rows);
            var best = perImageByBatch.MinBy(kv => kv.Value);
            var slower = perImageByBatch.Where(kv => kv.Key > 1 && kv.Value > perImageByBatch[1]).Select(kv => kv.Key.ToString()).ToArray();
            Report.Line($"Best batch {best.Key}: {Report.F(best.Value, 1)} ms/image, goal <= {GoalMs:0} ms {(best.Value <= GoalMs ? "met" : "not met")}; " +
                (slower.Length == 0 ? "no batch slower per image than batch 1 (goal met)." : $"slower per image than batch 1 at batch {string.Join(", ", slower)} (goal not met)."));
            Report.Line($"The library's default CPU batch is at most {WorkSizing.MaxCpuBatch} (WorkSizing.MaxCpuBatch); this section embeds through one pipeline of batch {pipeline.BatchSize}.");
            Report.Line($"Input {BenchSettings.Geometry}; {pipeline.Dimension}-D embeddings on a {pipeline.Extractor.Layer2Channels}/{pipeline.Extractor.Layer3Channels}-channel layer2/layer3 grid; device {pipeline.Device}.");
            Report.Line("ms/image covers FeaturePipeline.Embed: input tensor, backbone, embedding (read in place afterwards, no copy). The split columns time the backbone and the embedding alone (medians of separate runs);");
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
