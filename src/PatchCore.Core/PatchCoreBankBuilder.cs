using System.Diagnostics;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Sampling;

namespace PatchCore.Core;

/// <summary>A bank fitted in memory: coreset vectors [VectorCount, Dimension] and their index.</summary>
public sealed class FittedBank : IDisposable
{
    internal FittedBank(float[] vectors, int dimension, long candidates, FaissIndex index, CoresetSettings coresetSettings,
        IReadOnlyList<string> images, TimeSpan features, TimeSpan coreset, TimeSpan indexTime)
    {
        CoresetSettings = coresetSettings;
        Images = images;
        Vectors = vectors;
        Dimension = dimension;
        Candidates = candidates;
        Index = index;
        FeatureTime = features;
        CoresetTime = coreset;
        IndexTime = indexTime;
    }

    public float[] Vectors { get; }
    public int Dimension { get; }
    public long VectorCount => Vectors.Length / Dimension;
    public long Candidates { get; }
    public FaissIndex Index { get; }
    public TimeSpan FeatureTime { get; }
    public TimeSpan CoresetTime { get; }
    public TimeSpan IndexTime { get; }
    public CoresetSettings CoresetSettings { get; }
    /// <summary>The images whose patches were the candidates.</summary>
    public IReadOnlyList<string> Images { get; }

    /// <summary>The bank file's metadata for this bank, made with <paramref name="pipeline"/>.</summary>
    public BankMetadata Describe(FeaturePipeline pipeline, Calibration calibration)
    {
        var extractor = pipeline.Extractor;
        return new BankMetadata
        {
            Backbone = extractor.BackboneName,
            WeightsId = extractor.WeightsId,
            WeightsDescription = extractor.WeightsDescription,
            Preprocessing = extractor.Preprocessing,
            Geometry = pipeline.Options.Geometry,
            Embedding = pipeline.Options.Embedding,
            Coreset = CoresetSettings,
            IndexFactory = Index.Description,
            Dimension = Dimension,
            VectorCount = VectorCount,
            CandidateCount = Candidates,
            TrainingImageCount = Images.Count,
            TrainingImages = Images.Select(Path.GetFileName).ToArray()!,
            Calibration = calibration,
            CreatedUtc = DateTimeOffset.UtcNow,
        };
    }

    public void Dispose() => Index.Dispose();
}

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
        using var fitted = Fit(pipeline, bankImages, options, progress, ct);

        // Calibration: held-out good images scored against the bank; they never entered it.
        var sw = Stopwatch.StartNew();
        var scores = new List<double>();
        if (heldOut.Length > 0)
        {
            // The held-out images are searched as a loaded bank searches by default, so the threshold comes from the
            // same distance computation the scores it is compared with.
            var backend = PatchCoreDetector.ResolveSearch(SearchBackend.Auto, fitted.Index.Description, pipeline.Device.type);
            using var search = backend == SearchBackend.Faiss
                ? null
                : PatchCoreDetector.CreateSearch(backend, fitted.Vectors, fitted.Dimension, pipeline, new DetectorOptions(), () => fitted.Index);
            var scorer = new Scoring.AnomalyScorer(search?.Index ?? fitted.Index, fitted.Vectors, options.Scoring,
                Devices.WorkSizing.SearchChunkRows(pipeline.WorkBudgetBytes, fitted.VectorCount, fitted.Dimension));
            int done = 0;
            foreach (var batch in pipeline.DecodeBatches(heldOut, ct: ct))
            {
                try
                {
                    var e = pipeline.Embed(batch);
                    var detections = scorer.Score(batch.Select(b => b.SourcePath).ToArray(), e.Values, e.GridWidth, e.GridHeight, batch[0].InputWidth, batch[0].InputHeight);
                    scores.AddRange(detections.Select(d => d.Score));
                }
                finally
                {
                    foreach (var d in batch) d.Dispose();
                }
                done += batch.Count;
                progress?.Report(new BuildProgress("calibration", done, heldOut.Length));
            }
        }
        double? threshold = scores.Count > 0 ? options.ThresholdRule.Apply(scores) : null;
        var (mean, std) = scores.Count > 0 ? ThresholdRule.MeanStd(scores) : (0, 0);
        var calibration = new Calibration
        {
            HeldOutImages = heldOut.Select(Path.GetFileName).ToArray()!,
            HeldOutScores = scores,
            Mean = mean,
            StdDev = std,
            Max = scores.Count > 0 ? scores.Max() : 0,
            Rule = scores.Count > 0 ? options.ThresholdRule.ToString() : "no images held out: no default threshold",
            Threshold = threshold,
        };
        sw.Stop();

        var metadata = fitted.Describe(pipeline, calibration);
        string id = MemoryBankFile.Write(options.OutPath, metadata, fitted.Vectors, fitted.Index.ToBytes());
        return new BuildSummary
        {
            BankPath = Path.GetFullPath(options.OutPath),
            BankId = id,
            BankImages = bankImages.Length,
            HeldOutImages = heldOut.Length,
            Candidates = fitted.Candidates,
            BankVectors = fitted.VectorCount,
            Dimension = fitted.Dimension,
            IndexFactory = fitted.Index.Description,
            Threshold = threshold,
            FeatureTime = fitted.FeatureTime,
            CoresetTime = fitted.CoresetTime,
            IndexTime = fitted.IndexTime,
            CalibrationTime = sw.Elapsed,
        };
    }

    /// <summary>Features of all <paramref name="images"/>, coreset, index: the bank in memory.</summary>
    public static FittedBank Fit(FeaturePipeline pipeline, IReadOnlyList<string> images, BuildOptions options, IProgress<BuildProgress>? progress = null, CancellationToken ct = default)
    {
        if (images.Count == 0) throw new PatchCoreException("No images to build a bank from.");
        var sw = Stopwatch.StartNew();
        var coresetOptions = new CoresetOptions(options.CoresetFraction, options.CoresetCount, Seed: options.Seed);
        coresetOptions.Validate();
        using var store = new CandidateStore(pipeline.Dimension, coresetOptions.ToStoreOptions() with { Device = pipeline.Device, RowStorage = options.CandidateRows });
        int done = 0;
        foreach (var batch in pipeline.DecodeBatches(images, ct: ct))
        {
            try
            {
                var e = pipeline.Embed(batch);
                store.Append(e.Values); // [B*L, D]
            }
            finally
            {
                foreach (var d in batch) d.Dispose();
            }
            done += batch.Count;
            progress?.Report(new BuildProgress("features", done, images.Count));
        }
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
        FaissIndex index = FaissIndex.Create(pipeline.Dimension, options.IndexFactory);
        try
        {
            progress?.Report(new BuildProgress("index", 0, 1));
            index.Add(vectors);
            progress?.Report(new BuildProgress("index", 1, 1));
        }
        catch
        {
            index.Dispose();
            throw;
        }
        var settings = new CoresetSettings(coresetOptions.Fraction, coresetOptions.Count, coresetOptions.ProjectionDim, coresetOptions.StartPoints, coresetOptions.Seed);
        return new FittedBank(vectors, pipeline.Dimension, store.Count, index, settings, images.ToArray(), features, coreset, sw.Elapsed);
    }
}
