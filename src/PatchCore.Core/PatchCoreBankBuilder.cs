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
            FeatureTime = fitted.FeatureTime,
            CoresetTime = fitted.CoresetTime,
            IndexTime = fitted.IndexTime,
            CalibrationTime = sw.Elapsed,
        };
    }

    /// <summary>
    /// The held-out good images, which never entered the bank, scored against it through the detector's own path and
    /// search, so the thresholds come from the same distances as the scores they are compared with; then the rules of
    /// <see cref="Calibration"/> on their image scores and on the inspected pixels of their anomaly maps.
    /// </summary>
    internal static Calibration Calibrate(FeaturePipeline pipeline, FittedBank fitted, string[] heldOut, BuildOptions options,
        IProgress<BuildProgress>? progress, CancellationToken ct)
    {
        if (heldOut.Length == 0)
            return new Calibration { Rule = "no images held out: no default threshold" };
        var scores = new List<double>(heldOut.Length);
        var pixels = new PixelSample();
        using (var detector = PatchCoreDetector.FromFitted(pipeline, ownsPipeline: false, fitted, new Calibration(), new DetectorOptions { Scoring = options.Scoring }))
        {
            foreach (var file in detector.ScoreFiles(heldOut, ct: ct))
            {
                using (file)
                {
                    scores.Add(file.Score); // a held-out image that cannot be scored fails the build, naming it
                    pixels.Add(file.Detection!.Map.Values, file.Inspected);
                }
                progress?.Report(new BuildProgress("calibration", scores.Count, heldOut.Length));
            }
        }
        var (mean, std) = ThresholdRule.MeanStd(scores);
        float[] sortedPixels = pixels.Sorted();
        double[] sortedScores = scores.Order().ToArray();
        return new Calibration
        {
            HeldOutImages = heldOut.Select(Path.GetFileName).ToArray()!,
            HeldOutScores = scores,
            Mean = mean,
            StdDev = std,
            Max = scores.Max(),
            Rule = options.ThresholdRule.ToString(),
            Threshold = options.ThresholdRule.Apply(scores),
            ReviewThreshold = options.ReviewRule.Apply<double>(sortedScores),
            ReviewRule = $"{options.ReviewRule} of the held-out image scores",
            PixelThreshold = options.PixelRule.Apply<float>(sortedPixels),
            PixelRule = $"{options.PixelRule} of {Report(pixels)} held-out anomaly-map pixels",
            PixelMedian = QuantileRule.QuantileOf<float>(sortedPixels, 0.5),
            PixelMax = sortedPixels[^1],
        };
    }

    private static string Report(PixelSample pixels) =>
        pixels.Stride == 1 ? $"all {pixels.Seen:N0}" : $"every {pixels.Stride}th of {pixels.Seen:N0}";

    /// <summary>
    /// The held-out anomaly-map pixels the pixel threshold is taken from, in bounded memory: every pixel up to
    /// <see cref="Capacity"/>, then every second one kept and the stride doubled, as often as needed.
    /// </summary>
    private sealed class PixelSample
    {
        private const int Capacity = 1 << 24; // 64 MiB of floats
        private float[] _values = new float[1024];
        private int _count;
        private long _phase;

        public int Stride { get; private set; } = 1;
        public long Seen { get; private set; }

        /// <param name="inspected">Pixels of the region of interest; null = every pixel.</param>
        public void Add(ReadOnlySpan<float> map, bool[]? inspected)
        {
            for (int i = 0; i < map.Length; i++)
            {
                if (inspected is not null && !inspected[i]) continue;
                Seen++;
                if (_phase++ % Stride != 0) continue;
                if (_count == Capacity) Decimate();
                if (_count == _values.Length) Array.Resize(ref _values, Math.Min(Capacity, 2 * _values.Length));
                _values[_count++] = map[i];
            }
        }

        private void Decimate()
        {
            for (int i = 0; i < _count / 2; i++) _values[i] = _values[2 * i];
            _count /= 2;
            Stride *= 2;
        }

        public float[] Sorted()
        {
            if (_count == 0) throw new PatchCoreException("The held-out images have no inspected pixel: the region of interest ignores everything.");
            var sorted = _values.AsSpan(0, _count).ToArray();
            Array.Sort(sorted);
            return sorted;
        }
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
                foreach (var batch in window.Batches(pipeline.BatchSize))
                {
                    var decoded = batch.Select(i => i.Image!).ToArray();
                    var e = pipeline.Embed(decoded);
                    store.Append(roi is null ? e.Values : InspectedRows(e, decoded, roi)); // [B*L, D]
                }
            }
            done += window.Count;
            progress?.Report(new BuildProgress("features", done, images.Count));
        }
    }

    /// <summary>The rows [n, D] of the batch's patches that lie inside the region of interest.</summary>
    private static float[] InspectedRows(EmbeddedBatch e, DecodedImage[] images, RegionOfInterest roi)
    {
        var rows = new List<float>(e.Values.Length);
        for (int b = 0; b < images.Length; b++)
        {
            bool[] cells = RegionOfInterest.InspectedCells(roi.InspectedPixels(images[b]), images[b].InputWidth, images[b].InputHeight, e.GridWidth, e.GridHeight);
            for (int p = 0; p < cells.Length; p++)
                if (cells[p]) rows.AddRange(e.Values.AsSpan((b * e.PatchesPerImage + p) * e.Dimension, e.Dimension));
        }
        return rows.ToArray();
    }

    /// <summary>Features of all <paramref name="images"/>, coreset, index: the bank in memory.</summary>
    internal static FittedBank Fit(FeaturePipeline pipeline, IReadOnlyList<string> images, BuildOptions options, IProgress<BuildProgress>? progress = null, CancellationToken ct = default)
    {
        if (images.Count == 0) throw new PatchCoreException("No images to build a bank from.");
        var sw = Stopwatch.StartNew();
        var coresetOptions = new CoresetOptions(options.CoresetFraction, options.CoresetCount, Seed: options.Seed);
        coresetOptions.Validate();
        using var store = new CandidateStore(pipeline.Dimension, coresetOptions.ToStoreOptions() with { Device = pipeline.Device, RowStorage = options.CandidateRows });
        AppendFeatures(store, pipeline, images, options.Roi, progress, ct);
        var features = sw.Elapsed;

        sw.Restart();
        IProgress<double>? coresetProgress = progress is null ? null : new SyncProgress<double>(f => progress.Report(new BuildProgress("coreset", f, 1)));
        // On CUDA the plain greedy loop runs as torch ops on the device; on the CPU the pruned exact loop is faster.
        var selected = pipeline.Device.type == TorchSharp.DeviceType.CUDA
            ? CoresetSampler.SelectOnDevice(store, coresetOptions, pipeline.Device, coresetProgress, ct)
            : CoresetSampler.Select(store, coresetOptions, coresetProgress, ct);
        float[] vectors = store.ReadRows(selected);
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
            CoresetSettings = new CoresetSettings(coresetOptions.Fraction, coresetOptions.Count, coresetOptions.ProjectionDim, coresetOptions.StartPoints, coresetOptions.Seed),
            Images = images.ToArray(),
            Roi = options.Roi,
            FeatureTime = features,
            CoresetTime = coreset,
            IndexTime = sw.Elapsed,
        };
    }
}
