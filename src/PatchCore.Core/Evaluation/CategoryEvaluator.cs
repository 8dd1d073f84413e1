using System.Diagnostics;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;

namespace PatchCore.Core.Evaluation;

/// <summary>How to evaluate one MVTec-layout category.</summary>
public sealed record EvaluationOptions
{
    /// <summary>How the bank is built (model, coreset, seed, index, scoring); its image list and path are not used.</summary>
    public BuildOptions Bank { get; init; } = new([], "(in memory)");
    /// <summary>Use every n-th training image (sorted by name); 1 = all.</summary>
    public int TrainStride { get; init; } = 1;
    /// <summary>Heatmap overlays per gallery in the report.</summary>
    public int GallerySize { get; init; } = 6;
    /// <summary>How the test images are searched against the bank (default: the fastest exact search).</summary>
    public SearchBackend Search { get; init; } = SearchBackend.Auto;
}

public sealed record ScoredImage(string Path, bool IsAnomalous, string DefectType, double Score);

/// <summary>A heatmap overlay for the report: PNG bytes and a caption.</summary>
public sealed record PhaseSeconds(double Features, double Coreset, double Index, double ScorePerImage);

public sealed record EvaluationResult
{
    public required string Category { get; init; }
    public required double ImageAuroc { get; init; }
    public double? PixelAuroc { get; init; }
    public double? Pro { get; init; }
    public required F1MaxResult ImageF1 { get; init; }
    public F1MaxResult? PixelF1 { get; init; }
    public required int TrainImages { get; init; }
    public required int TestImages { get; init; }
    public required long Candidates { get; init; }
    public required long BankVectors { get; init; }
    public required int Dimension { get; init; }
    public required PhaseSeconds Seconds { get; init; }
    public required IReadOnlyList<ScoredImage> Images { get; init; }
    public required RocCurve ImageRoc { get; init; }
    public RocCurve? PixelRoc { get; init; }
    public required IReadOnlyDictionary<string, string> Settings { get; init; }
    public IReadOnlyList<ReportImage> HighestGood { get; init; } = [];
    public IReadOnlyList<ReportImage> HighestDefect { get; init; } = [];
}

/// <summary>
/// Builds a bank from a category's train/good images, scores every test image and computes image AUROC, pixel
/// AUROC, PRO (AUPRO up to FPR 0.3) and F1-max. Orchestration only: the maths lives in the metric classes.
/// </summary>
public static class CategoryEvaluator
{
    public static EvaluationResult Run(string categoryDir, EvaluationOptions options, IProgress<BuildProgress>? progress = null, CancellationToken ct = default)
    {
        var category = MvtecCategory.Load(categoryDir);
        var train = category.TrainGood.Where((_, i) => i % Math.Max(1, options.TrainStride) == 0).ToArray();
        if (options.TrainStride < 1) throw new PatchCoreException($"The training stride must be at least 1, got {options.TrainStride}.");
        // Evaluation uses every training image for the bank: no hold-out, no threshold calibration.
        var build = options.Bank with { TrainImages = train, HoldOutFraction = 0 };
        build.Validate();
        var pipeline = new FeaturePipeline(build.Model);
        FittedBank fitted;
        try
        {
            fitted = PatchCoreBankBuilder.Fit(pipeline, train, build, progress, ct);
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }
        using var detector = PatchCoreDetector.FromFitted(pipeline, fitted, build.Scoring, options.Search);

        var test = category.Test;
        var scores = new float[test.Count];
        var labels = new bool[test.Count];
        var pixels = category.HasMasks ? new PixelScoreAccumulator() : null;
        var sw = Stopwatch.StartNew();
        var paths = test.Select(t => t.ImagePath).ToArray();
        int done = 0;
        foreach (var batch in pipeline.DecodeBatches(paths, ct: ct))
        {
            try
            {
                var detections = detector.Score(batch);
                for (int j = 0; j < batch.Count; j++)
                {
                    int i = done + j;
                    var item = test[i];
                    scores[i] = (float)detections[j].Score;
                    labels[i] = item.IsAnomalous;
                    if (pixels is not null)
                    {
                        var map = detections[j].Map;
                        if (item.MaskPath is null) pixels.AddNormal(map.Values, item.ImagePath);
                        else pixels.Add(map.Values, MaskReader.Load(item.MaskPath, batch[j]), map.Width, item.ImagePath);
                    }
                }
            }
            finally
            {
                foreach (var d in batch) d.Dispose();
            }
            done += batch.Count;
            progress?.Report(new BuildProgress("scoring", done, test.Count));
        }
        double scorePerImage = sw.Elapsed.TotalSeconds / Math.Max(1, test.Count);

        var images = test.Select((t, i) => new ScoredImage(t.ImagePath, t.IsAnomalous, t.DefectType, scores[i])).ToArray();
        PixelMetricSet? pixelMetrics = pixels is null ? null : PixelMetrics.Compute(pixels);

        var result = new EvaluationResult
        {
            Category = category.Name,
            ImageAuroc = ImageAuroc.Compute(scores, labels),
            PixelAuroc = pixelMetrics?.Auroc,
            Pro = pixelMetrics?.Aupro,
            ImageF1 = F1Max.Compute(scores, labels),
            PixelF1 = pixelMetrics?.F1,
            TrainImages = train.Length,
            TestImages = test.Count,
            Candidates = fitted.Candidates,
            BankVectors = fitted.VectorCount,
            Dimension = fitted.Dimension,
            Seconds = new PhaseSeconds(fitted.FeatureTime.TotalSeconds, fitted.CoresetTime.TotalSeconds, fitted.IndexTime.TotalSeconds, scorePerImage),
            Images = images,
            ImageRoc = ImageAuroc.Curve(scores, labels),
            PixelRoc = pixelMetrics?.Roc,
            Settings = new Dictionary<string, string>
            {
                ["backbone"] = build.Model.Backbone,
                ["weights"] = pipeline.Extractor.WeightsDescription,
                ["geometry"] = build.Model.Geometry.ToString(),
                ["embedding"] = $"{build.Model.Embedding.Mode} ({fitted.Dimension}-D)",
                ["coreset"] = build.CoresetCount is int c ? c.ToString() : build.CoresetFraction.ToString("0.###"),
                ["index"] = fitted.Index.Description,
                ["seed"] = build.Seed.ToString(),
                ["k"] = build.Scoring.NeighbourCount.ToString(),
                ["train_stride"] = options.TrainStride.ToString(),
                ["device"] = pipeline.Device.ToString(),
            },
        };
        if (options.GallerySize <= 0) return result;

        var good = images.Where(i => !i.IsAnomalous).OrderByDescending(i => i.Score).Take(options.GallerySize);
        var defects = images.Where(i => i.IsAnomalous).OrderByDescending(i => i.Score);
        return result with
        {
            HighestGood = Gallery(detector, good, "good"),
            HighestDefect = Gallery(detector, defects.Take(options.GallerySize), "defect"),
        };
    }

    private static ReportImage[] Gallery(PatchCoreDetector detector, IEnumerable<ScoredImage> images, string kind)
    {
        var list = new List<ReportImage>();
        foreach (var img in images)
        {
            using var decoded = detector.Decode(img.Path);
            var d = detector.Score([decoded])[0];
            byte[] png = HeatmapOverlay.ToPngBytes(decoded, d.Map.Values, null);
            list.Add(new ReportImage(png, $"{Path.GetFileName(img.Path)} ({img.DefectType}, {kind}) score {img.Score:0.###}"));
        }
        return list.ToArray();
    }
}
