using System.Diagnostics;
using PatchCore.Core.Embedding;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;

namespace PatchCore.Core.Evaluation;

/// <summary>
/// Builds a bank from a category's train/good images as <c>build</c> does (holding out a share to calibrate the
/// thresholds, from good images only), scores every test image and computes image AUROC, pixel AUROC, PRO (AUPRO up
/// to FPR 0.3), F1-max, and at the calibrated thresholds the verdicts and regions. With no hold-out every training
/// image is in the bank (the paper's protocol) and there are no thresholds. Orchestration only: the maths lives in
/// the metric classes.
/// </summary>
public static class CategoryEvaluator
{
    public static EvaluationResult Run(string categoryDir, EvaluationOptions options, IProgress<BuildProgress>? progress = null, CancellationToken ct = default)
    {
        if (options.TrainStride < 1) throw new PatchCoreException($"The training stride must be at least 1, got {options.TrainStride}.");
        var category = MvtecCategory.Load(categoryDir);
        var train = category.TrainGood.Where((_, i) => i % options.TrainStride == 0).ToArray();
        var (build, geometryChoice) = (options.Bank with { TrainImages = train }).ResolveGeometry();
        build.Validate();
        var (bankImages, heldOut) = build.SplitHoldOut();
        var pipeline = new FeaturePipeline(build.Model);
        FittedBank fitted;
        PatchCoreDetector detector;
        try
        {
            fitted = PatchCoreBankBuilder.Fit(pipeline, bankImages, build, progress, ct);
            var calibration = PatchCoreBankBuilder.Calibrate(pipeline, fitted, heldOut, build, progress, ct);
            detector = PatchCoreDetector.FromFitted(pipeline, ownsPipeline: true, fitted, calibration, new DetectorOptions { Search = options.Search, Scoring = build.Scoring });
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }
        using var _ = detector;
        return Measure(category, detector, options.GallerySize, bankImages.Length, heldOut.Length, fitted.Candidates, fitted.VectorCount, fitted.Dimension,
            (fitted.FeatureTime.TotalSeconds, fitted.CoresetTime.TotalSeconds, fitted.IndexTime.TotalSeconds), Settings(build, geometryChoice, options, pipeline, fitted, heldOut.Length, detector.Metadata.Calibration),
            options.SaveMapsPath, progress, ct);
    }

    /// <summary>
    /// Scores a category's test split against a bank file (a built, updated or versioned bank; <c>NAME.current</c>
    /// resolves to its version) through the same path and metrics as <see cref="Run"/>; the bank's own thresholds give
    /// the verdicts. Build times are not known here: they read 0.
    /// </summary>
    public static EvaluationResult RunOnBank(string categoryDir, string bankPath, DetectorOptions? options = null, int gallerySize = 0,
        IProgress<BuildProgress>? progress = null, CancellationToken ct = default)
    {
        var category = MvtecCategory.Load(categoryDir);
        using var detector = PatchCoreDetector.Load(bankPath, options);
        var m = detector.Metadata;
        var settings = new Dictionary<string, string>
        {
            ["bank"] = Path.GetFullPath(bankPath),
            ["bank_id"] = detector.BankId,
            ["backbone"] = m.Backbone,
            ["weights"] = m.WeightsDescription,
            ["embedding"] = $"{m.Embedding.Mode} ({m.Dimension}-D)",
            ["coreset"] = m.Coreset.Count is int c ? c.ToString() : m.Coreset.Fraction.ToString("0.###"),
            ["index"] = m.IndexFactory,
            ["seed"] = m.Coreset.Seed.ToString(),
            ["updates"] = m.Updates.Count.ToString(),
            ["held_out"] = m.Calibration.HeldOutImages.Count.ToString(),
            ["device"] = detector.Pipeline.Device.ToString(),
        };
        AddGeometryAndScore(settings, m.Geometry, m.Geometry.Auto ? "yes (chosen when the bank was built)" : "no", m.Calibration);
        return Measure(category, detector, gallerySize, m.TrainingImageCount, m.Calibration.HeldOutImages.Count, m.CandidateCount, m.VectorCount, m.Dimension,
            (0, 0, 0), settings, saveMapsPath: null, progress, ct);
    }

    /// <summary>
    /// The test split through <paramref name="detector"/>, the metrics, and at its thresholds the verdicts and regions;
    /// with <paramref name="saveMapsPath"/>, every anomaly map into one .npy file.
    /// </summary>
    private static EvaluationResult Measure(MvtecCategory category, PatchCoreDetector detector, int gallerySize, int trainImages, int heldOut,
        long candidates, long bankVectors, int dimension, (double Features, double Coreset, double Index) build, IReadOnlyDictionary<string, string> settings,
        string? saveMapsPath, IProgress<BuildProgress>? progress, CancellationToken ct)
    {
        var test = category.Test;
        var labels = test.Select(t => t.IsAnomalous).ToArray();
        var pixels = category.HasMasks ? new PixelScoreAccumulator() : null;
        var regions = category.HasMasks && detector.Thresholds.Pixel is not null ? new RegionTally() : null;
        var sw = Stopwatch.StartNew();
        using var maps = saveMapsPath is { } npy ? new NpyMapWriter(npy, test.Count) : null;
        var images = ScoreTestSplit(detector, test, pixels, regions, maps, progress, ct);
        double scorePerImage = sw.Elapsed.TotalSeconds / Math.Max(1, test.Count);
        float[] scores = images.Select(i => (float)i.Score).ToArray();
        PixelMetricSet? pixelMetrics = pixels is null ? null : PixelMetrics.Compute(pixels);
        bool calibrated = detector.Thresholds.Ng is not null;

        var result = new EvaluationResult
        {
            Category = category.Name,
            ImageAuroc = ImageAuroc.Compute(scores, labels),
            PixelAuroc = pixelMetrics?.Auroc,
            Pro = pixelMetrics?.Aupro,
            ImageF1 = F1Max.Compute(scores, labels),
            PixelF1 = pixelMetrics?.F1,
            TrainImages = trainImages,
            HeldOutImages = heldOut,
            TestImages = test.Count,
            Candidates = candidates,
            BankVectors = bankVectors,
            Dimension = dimension,
            Seconds = new PhaseSeconds(build.Features, build.Coreset, build.Index, scorePerImage),
            Images = images,
            ImageRoc = ImageAuroc.Curve(scores, labels),
            PixelRoc = pixelMetrics?.Roc,
            Settings = settings,
            Thresholds = calibrated ? detector.Thresholds : null,
            GoodVerdicts = calibrated ? Count(images.Where(i => !i.IsAnomalous)) : null,
            DefectVerdicts = calibrated ? Count(images.Where(i => i.IsAnomalous)) : null,
            Regions = regions?.Figures(images.Count(i => !i.IsAnomalous)),
        };
        if (gallerySize <= 0) return result;

        var good = images.Where(i => !i.IsAnomalous).OrderByDescending(i => i.Score).Take(gallerySize).ToArray();
        var defects = images.Where(i => i.IsAnomalous).OrderByDescending(i => i.Score).Take(gallerySize).ToArray();
        // One colour scale for every overlay of the report: the bank's, else one spanning all of them.
        var gallery = Gallery(detector, [.. good, .. defects], ct);
        return result with
        {
            HighestGood = gallery.Take(good.Length).ToArray(),
            HighestDefect = gallery.Skip(good.Length).ToArray(),
        };
    }

    /// <summary>
    /// The test split in its order, through the detector's one scoring path; with masks, every pixel of every map goes
    /// to <paramref name="pixels"/> with its own image's mask, and every image's regions to <paramref name="regions"/>.
    /// A test image that cannot be scored fails the evaluation, naming it.
    /// </summary>
    private static ScoredImage[] ScoreTestSplit(PatchCoreDetector detector, IReadOnlyList<MvtecTestItem> test, PixelScoreAccumulator? pixels,
        RegionTally? regions, NpyMapWriter? maps, IProgress<BuildProgress>? progress, CancellationToken ct)
    {
        var images = new ScoredImage[test.Count];
        foreach (var file in detector.ScoreFiles(test.Select(t => t.ImagePath).ToArray(), ct: ct))
        {
            using (file)
            {
                var item = test[file.Index];
                images[file.Index] = new ScoredImage(item.ImagePath, item.IsAnomalous, item.DefectType, file.Score)
                {
                    Verdict = file.Verdict,
                    RegionCount = file.Regions?.Count,
                };
                var map = file.Detection!.Map;
                bool[]? mask = item.MaskPath is null ? null : MaskReader.Load(item.MaskPath, file.Image!);
                if (pixels is not null)
                {
                    if (mask is null) pixels.AddNormal(map.Values, item.ImagePath);
                    else pixels.Add(map.Values, mask, map.Width, item.ImagePath);
                }
                regions?.Add(file, mask, map.Width);
                maps?.Add(file.Index, map.Values, map.Width, map.Height);
            }
            progress?.Report(new BuildProgress("scoring", file.Index + 1, test.Count));
        }
        return images;
    }

    private static VerdictCounts Count(IEnumerable<ScoredImage> images)
    {
        var verdicts = images.Select(i => i.Verdict).ToArray();
        return new VerdictCounts(verdicts.Count(v => v == Verdict.Ok), verdicts.Count(v => v == Verdict.Review), verdicts.Count(v => v == Verdict.Ng));
    }

    /// <summary>The settings an evaluation ran with, as the report and the JSON show them.</summary>
    private static Dictionary<string, string> Settings(BuildOptions build, GeometryChoice? choice, EvaluationOptions options, FeaturePipeline pipeline, FittedBank fitted, int heldOut,
        Calibration calibration)
    {
        var settings = new Dictionary<string, string>
        {
            ["backbone"] = build.Model.Backbone,
            ["weights"] = pipeline.Extractor.WeightsDescription,
        };
        AddGeometryAndScore(settings, build.Model.Geometry, choice?.ToString() ?? "no", calibration);
        settings["embedding"] = $"{build.Model.Embedding.Mode} ({fitted.Dimension}-D)";
        settings["coreset"] = build.CoresetCount is int c ? c.ToString() : build.CoresetFraction.ToString("0.###");
        settings["index"] = fitted.IndexFactory;
        settings["seed"] = build.Seed.ToString();
        settings["k"] = build.Scoring.NeighbourCount.ToString();
        settings["train_stride"] = options.TrainStride.ToString();
        settings["held_out"] = heldOut.ToString();
        settings["device"] = pipeline.Device.ToString();
        return settings;
    }

    /// <summary>
    /// The settings that say how images were sized and scored, for an evaluation that built its bank and for one on a
    /// bank file alike: geometry, resize, crop, tile (as <c>--tile</c> reads, or none), geometry_auto, image_score (the
    /// rule the bank uses, as <c>--image-score</c> reads) and image_score_auto (why <c>--image-score auto</c> chose it, or no).
    /// </summary>
    private static void AddGeometryAndScore(Dictionary<string, string> settings, ImageGeometry geometry, string auto, Calibration calibration)
    {
        settings["geometry"] = geometry.ToString();
        settings["resize"] = geometry.ResizeText;
        settings["crop"] = geometry.CropText;
        settings["tile"] = geometry.Tile?.ToString() ?? "none";
        settings["geometry_auto"] = auto;
        settings["image_score"] = calibration.ImageScore == ImageScoreRule.Position ? "position" : "max";
        settings["image_score_auto"] = calibration.ImageScoreChoice ?? "no";
    }

    /// <summary>Heatmap overlays of <paramref name="images"/> in one colour scale: the bank's, else one spanning all of their maps.</summary>
    private static ReportImage[] Gallery(PatchCoreDetector detector, IReadOnlyList<ScoredImage> images, CancellationToken ct)
    {
        var files = detector.ScoreFiles(images.Select(i => i.Path).ToArray(), keepOriginals: true, ct).ToArray();
        try
        {
            var scale = detector.Thresholds.Pixel is null && detector.Thresholds.Ng is null ? OverlayScale.Spanning(files.Select(f => f.Detection!.Map.Values)) : null;
            return files.Select(file =>
            {
                var img = images[file.Index];
                string verdict = img.Verdict is { } v ? $", {Verdicts.Name(v)}" : "";
                string regionText = img.RegionCount is int n ? $", {n} region{(n == 1 ? "" : "s")}" : "";
                return new ReportImage(detector.HeatmapPng(file, scale),
                    $"{Path.GetFileName(img.Path)} ({img.DefectType}) score {img.Score:0.###}{verdict}{regionText}");
            }).ToArray();
        }
        finally
        {
            foreach (var file in files) file.Dispose();
        }
    }

    /// <summary>Regions of the test images against their masks (<see cref="RegionFigures"/>).</summary>
    private sealed class RegionTally
    {
        private int _groundTruth, _hit, _onGood, _offGroundTruth;

        public void Add(ScoredFile file, bool[]? mask, int width)
        {
            var reported = file.RegionPixels;
            int count = file.Regions?.Count ?? 0;
            if (mask is null)
            {
                _onGood += count;
                return;
            }
            var labels = new int[mask.Length];
            var sizes = ConnectedComponents.Label(mask.Select(m => m ? (byte)1 : (byte)0).ToArray(), width, labels);
            _groundTruth += sizes.Count;
            if (reported is null) return;
            var hit = new HashSet<int>();
            for (int i = 0; i < labels.Length; i++)
                if (labels[i] > 0 && reported[i] != 0) hit.Add(labels[i]);
            _hit += hit.Count;
            // a reported region that touches no ground-truth pixel is off the ground truth
            var regionLabels = new int[reported.Length];
            var regionSizes = ConnectedComponents.Label(reported, width, regionLabels);
            var touching = new HashSet<int>();
            for (int i = 0; i < regionLabels.Length; i++)
                if (regionLabels[i] > 0 && mask[i]) touching.Add(regionLabels[i]);
            _offGroundTruth += regionSizes.Count - touching.Count;
        }

        public RegionFigures Figures(int goodImages) => new(_groundTruth, _hit, goodImages, _onGood, _offGroundTruth);
    }
}
