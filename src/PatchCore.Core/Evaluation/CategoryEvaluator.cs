using System.Diagnostics;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;
using PatchCore.Core.Embedding;

namespace PatchCore.Core.Evaluation;

/// <summary>
/// Builds a bank from a category's train/good images, scores every test image and computes image AUROC, pixel
/// AUROC, PRO (AUPRO up to FPR 0.3) and F1-max. Orchestration only: the maths lives in the metric classes.
/// </summary>
public static class CategoryEvaluator
{
    public static EvaluationResult Run(string categoryDir, EvaluationOptions options, IProgress<BuildProgress>? progress = null, CancellationToken ct = default)
    {
        if (options.TrainStride < 1) throw new PatchCoreException($"The training stride must be at least 1, got {options.TrainStride}.");
        var category = MvtecCategory.Load(categoryDir);
        var train = category.TrainGood.Where((_, i) => i % options.TrainStride == 0).ToArray();
        // Evaluation uses every training image for the bank: no hold-out, no threshold calibration.
        var build = options.Bank with { TrainImages = train, HoldOutFraction = 0 };
        build.Validate();
        var pipeline = new FeaturePipeline(build.Model);
        FittedBank fitted;
        PatchCoreDetector detector;
        try
        {
            fitted = PatchCoreBankBuilder.Fit(pipeline, train, build, progress, ct);
            detector = PatchCoreDetector.FromFitted(pipeline, ownsPipeline: true, fitted, new DetectorOptions { Search = options.Search, Scoring = build.Scoring });
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }
        using var _ = detector;

        var test = category.Test;
        var labels = test.Select(t => t.IsAnomalous).ToArray();
        var pixels = category.HasMasks ? new PixelScoreAccumulator() : null;
        var sw = Stopwatch.StartNew();
        float[] scores = ScoreTestSplit(detector, test, pixels, progress, ct);
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
            Settings = Settings(build, options, pipeline, fitted),
        };
        if (options.GallerySize <= 0) return result;

        var good = images.Where(i => !i.IsAnomalous).OrderByDescending(i => i.Score).Take(options.GallerySize);
        var defects = images.Where(i => i.IsAnomalous).OrderByDescending(i => i.Score);
        return result with
        {
            HighestGood = Gallery(detector, good, "good", ct),
            HighestDefect = Gallery(detector, defects.Take(options.GallerySize), "defect", ct),
        };
    }

    /// <summary>
    /// Image scores of the test split in its order, through the detector's one scoring path; with masks, every pixel
    /// of every map goes to <paramref name="pixels"/> with its own image's mask. A test image that cannot be scored
    /// fails the evaluation, naming it.
    /// </summary>
    private static float[] ScoreTestSplit(PatchCoreDetector detector, IReadOnlyList<MvtecTestItem> test, PixelScoreAccumulator? pixels,
        IProgress<BuildProgress>? progress, CancellationToken ct)
    {
        var scores = new float[test.Count];
        foreach (var file in detector.ScoreFiles(test.Select(t => t.ImagePath).ToArray(), ct: ct))
        {
            using (file)
            {
                var item = test[file.Index];
                scores[file.Index] = (float)file.Score;
                if (pixels is not null)
                {
                    var map = file.Detection!.Map;
                    if (item.MaskPath is null) pixels.AddNormal(map.Values, item.ImagePath);
                    else pixels.Add(map.Values, MaskReader.Load(item.MaskPath, file.Image!), map.Width, item.ImagePath);
                }
            }
            progress?.Report(new BuildProgress("scoring", file.Index + 1, test.Count));
        }
        return scores;
    }

    /// <summary>The settings an evaluation ran with, as the report and the JSON show them.</summary>
    private static Dictionary<string, string> Settings(BuildOptions build, EvaluationOptions options, FeaturePipeline pipeline, FittedBank fitted) => new()
    {
        ["backbone"] = build.Model.Backbone,
        ["weights"] = pipeline.Extractor.WeightsDescription,
        ["geometry"] = build.Model.Geometry.ToString(),
        ["embedding"] = $"{build.Model.Embedding.Mode} ({fitted.Dimension}-D)",
        ["coreset"] = build.CoresetCount is int c ? c.ToString() : build.CoresetFraction.ToString("0.###"),
        ["index"] = fitted.IndexFactory,
        ["seed"] = build.Seed.ToString(),
        ["k"] = build.Scoring.NeighbourCount.ToString(),
        ["train_stride"] = options.TrainStride.ToString(),
        ["device"] = pipeline.Device.ToString(),
    };

    /// <summary>Heatmap overlays of <paramref name="images"/>, each scaled to its own map's range.</summary>
    private static ReportImage[] Gallery(PatchCoreDetector detector, IEnumerable<ScoredImage> images, string kind, CancellationToken ct)
    {
        var chosen = images.ToArray();
        var list = new List<ReportImage>();
        foreach (var file in detector.ScoreFiles(chosen.Select(i => i.Path).ToArray(), keepOriginals: true, ct))
        {
            using (file)
            {
                var img = chosen[file.Index];
                list.Add(new ReportImage(detector.HeatmapPng(file, threshold: null), $"{Path.GetFileName(img.Path)} ({img.DefectType}, {kind}) score {img.Score:0.###}"));
            }
        }
        return list.ToArray();
    }
}
