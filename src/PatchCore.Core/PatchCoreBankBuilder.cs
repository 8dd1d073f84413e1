using System.Diagnostics;
using PatchCore.Core.Embedding;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Sampling;
using PatchCore.Core.Search;

namespace PatchCore.Core;

/// <summary>
/// Builds memory banks: features of every good image, coreset subsampling, FAISS index, threshold calibration on
/// held-out good images, and the bank file.
/// </summary>
public static class PatchCoreBankBuilder
{
    /// <summary>Builds a bank file from <see cref="BuildOptions.TrainImages"/> and returns what was made.</summary>
    public static BuildSummary Build(BuildOptions options, IProgress<BuildProgress>? progress = null, CancellationToken ct = default)
    {
        options.Validate();
        options = options.ResolveGeometry().Options;
        var (bankImages, heldOut) = options.SplitHoldOut();
        using var pipeline = new FeaturePipeline(options.Model);
        var fitted = Fit(pipeline, bankImages, options, progress, ct);

        var sw = Stopwatch.StartNew();
        var calibration = Calibrate(pipeline, fitted, heldOut, options, progress, ct);
        sw.Stop();

        var content = fitted.ToContent(pipeline, calibration);
        string id = MemoryBankFile.Write(options.OutPath, content.Metadata, content.Vectors, content.IndexBytes);
        return new BuildSummary
        {
            BankPath = Path.GetFullPath(options.OutPath),
            BankId = id,
            BankImages = bankImages.Length,
            HeldOutImages = heldOut.Length,
            Candidates = fitted.Candidates,
            BankVectors = fitted.VectorCount,
            Dimension = fitted.Dimension,
            IndexFactory = fitted.IndexFactory,
            Threshold = calibration.Threshold,
            ReviewThreshold = calibration.ReviewThreshold,
            PixelThreshold = calibration.PixelThreshold,
            ImageScore = calibration.ImageScore,
            ImageScoreChoice = calibration.ImageScoreChoice,
            FeatureTime = fitted.FeatureTime,
            CoresetTime = fitted.CoresetTime,
            IndexTime = fitted.IndexTime,
            CalibrationTime = sw.Elapsed,
        };
    }

    /// <summary>
    /// The thresholds of a fitted bank from its held-out good images (<see cref="ThresholdCalibrator"/>: scored through
    /// the detector's one path and search, then the rules of <see cref="Calibration"/>).
    /// </summary>
    internal static Calibration Calibrate(FeaturePipeline pipeline, FittedBank fitted, string[] heldOut, BuildOptions options,
        IProgress<BuildProgress>? progress, CancellationToken ct)
    {
        if (heldOut.Length == 0)
            return ThresholdCalibrator.WithoutHeldOutImages(options.Rules);
        using var detector = PatchCoreDetector.FromFitted(pipeline, ownsPipeline: false, fitted, new Calibration(), new DetectorOptions { Scoring = options.Scoring });
        return ThresholdCalibrator.Calibrate(detector, heldOut.Select(HeldOutImage.At).ToArray(), options.Rules, parent: null, progress, ct);
    }

    /// <summary>
    /// The patch embeddings of every image into <paramref name="store"/>, in image order: the candidates of a bank.
    /// Patches outside the region of interest never enter it. Every good image must be usable: the first that is
    /// not fails the build, naming it.
    /// </summary>
    internal static void AppendFeatures(CandidateStore store, FeaturePipeline pipeline, IReadOnlyList<string> images, RegionOfInterest? roi,
        IProgress<BuildProgress>? progress, CancellationToken ct)
    {
        int done = 0;
        foreach (var window in pipeline.DecodeWindows(images, keepOriginals: false, ct))
        {
            using (window)
            {
                if (window.FirstError is { } error) throw error;
                foreach (var batch in pipeline.Batches(window))
                {
                    var decoded = batch.Select(i => i.Image!).ToArray();
                    using var e = pipeline.Embed(decoded);
                    store.Append(roi is null ? e.Values : InspectedRows(e, decoded, roi)); // [B*L, D], L: patches of all the image's tiles
                }
            }
            done += window.Count;
            progress?.Report(new BuildProgress("features", done, images.Count));
        }
    }

    /// <summary>The rows [n, D] of the batch's patches that lie inside the region of interest.</summary>
    private static float[] InspectedRows(EmbeddedBatch e, DecodedImage[] images, RegionOfInterest roi)
    {
        ReadOnlySpan<float> values = e.Values; // one look-up of the tensor's memory, not one per patch
        var rows = new List<float>(values.Length);
        for (int b = 0; b < images.Length; b++)
        {
            bool[] cells = e.InspectedCells(roi.InspectedPixels(images[b]), images[b].InputWidth, images[b].InputHeight);
            for (int p = 0; p < cells.Length; p++)
                if (cells[p]) rows.AddRange(values.Slice((b * e.PatchesPerImage + p) * e.Dimension, e.Dimension));
        }
        return rows.ToArray();
    }

    /// <summary>Features of all <paramref name="images"/>, coreset, index: the bank in memory.</summary>
    internal static FittedBank Fit(FeaturePipeline pipeline, IReadOnlyList<string> images, BuildOptions options, IProgress<BuildProgress>? progress = null, CancellationToken ct = default)
    {
        if (images.Count == 0) throw new PatchCoreException("No images to build a bank from.");
        var sw = Stopwatch.StartNew();
        var coresetOptions = new CoresetOptions(options.CoresetFraction, options.CoresetCount, Seed: options.Seed) { Method = options.CoresetMethod };
        coresetOptions.Validate();
        using var store = new CandidateStore(pipeline.Dimension, coresetOptions.ToStoreOptions() with { Device = pipeline.Device, RowStorage = options.CandidateRows });
        AppendFeatures(store, pipeline, images, options.Roi, progress, ct);
        var features = sw.Elapsed;

        sw.Restart();
        IProgress<double>? coresetProgress = progress is null ? null : new SyncProgress<double>(f => progress.Report(new BuildProgress("coreset", f, 1)));
        // On CUDA the plain exact loop runs as torch ops on the device; on the CPU the pruned exact loop is faster. The
        // two-stage coreset (large candidate sets) runs the pruned loop on the CPU.
        var method = coresetOptions.ResolveMethod(store.Count);
        var selection = method == CoresetMethod.Exact && pipeline.Device.type == TorchSharp.DeviceType.CUDA
            ? CoresetSampler.SelectOnDevice(store, coresetOptions, pipeline.Device, coresetProgress, ct)
            : CoresetSampler.Select(store, coresetOptions, coresetProgress, ct);
        float[] vectors = store.ReadRows(selection.Indices);
        var coreset = sw.Elapsed;

        sw.Restart();
        progress?.Report(new BuildProgress("index", 0, 1));
        var (indexBytes, indexFactory) = SearchIndexFactory.BuildStored(options.IndexFactory, vectors, pipeline.Dimension);
        progress?.Report(new BuildProgress("index", 1, 1));
        return new FittedBank
        {
            Vectors = vectors,
            Dimension = pipeline.Dimension,
            Candidates = store.Count,
            IndexFactory = indexFactory,
            IndexBytes = indexBytes,
            CoresetSettings = new CoresetSettings(coresetOptions.Fraction, coresetOptions.Count, coresetOptions.ProjectionDim, coresetOptions.StartPoints, coresetOptions.Seed)
            {
                CoverageRadius = selection.CoverageRadius,
                Method = method,
            },
            Images = images.ToArray(),
            Roi = options.Roi,
            FeatureTime = features,
            CoresetTime = coreset,
            IndexTime = sw.Elapsed,
        };
    }
}
