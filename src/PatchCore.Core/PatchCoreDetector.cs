using System.Diagnostics;
using PatchCore.Core.Embedding;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Native;
using PatchCore.Core.Scoring;
using PatchCore.Core.Search;

namespace PatchCore.Core;

/// <summary>
/// The common case in one object: a memory bank loaded with its backbone, scoring image files into image scores and
/// anomaly maps (<see cref="ScoreFiles"/>). Every host scores through that one path.
/// </summary>
public sealed class PatchCoreDetector : IImageScorer
{
    private readonly FeaturePipeline _pipeline;
    private readonly bool _ownsPipeline;
    private readonly SearchIndexes _search;
    private readonly AnomalyScorer _scorer;
    private readonly RegionOptions _regions;
    private readonly OverlayScale? _overlayScale;
    /// <summary>The held-out maps' statistics when the bank scores images by position; null: the highest patch distance.</summary>
    private readonly PositionStatistics? _position;
    private bool _disposed;

    private PatchCoreDetector(FeaturePipeline pipeline, bool ownsPipeline, SearchIndexes search, float[] vectors, BankMetadata metadata, string bankId, DetectorOptions options)
    {
        _pipeline = pipeline;
        _ownsPipeline = ownsPipeline;
        _search = search;
        Metadata = metadata;
        BankId = bankId;
        Thresholds = EffectiveThresholds(metadata.Calibration, options);
        _regions = options.Regions;
        _overlayScale = OverlayScale.ForBank(metadata.Calibration, Thresholds);
        _position = metadata.Calibration.ImageScore == ImageScoreRule.Position ? metadata.Calibration.Position : null; // checked by FromContent
        int chunk = Devices.WorkSizing.SearchChunkRows(pipeline.WorkBudgetBytes, search.Index.Count, search.Index.Dimension);
        _scorer = new AnomalyScorer(search.Index, vectors, options.Scoring, chunk, search.ExactForMaxima);
    }

    /// <summary>
    /// The bank's calibrated thresholds with the caller's overrides. A review threshold the caller did not set is
    /// dropped when an overridden ng threshold falls below it (the band would be empty), and when the band is off.
    /// </summary>
    private static Thresholds EffectiveThresholds(Calibration calibration, DetectorOptions options)
    {
        options.Regions.Validate();
        var bank = new Thresholds { Ng = calibration.Threshold, Review = calibration.ReviewThreshold, Pixel = calibration.PixelThreshold };
        var t = bank.With(options.Thresholds);
        if (!options.ReviewBand || (options.Thresholds?.Review is null && t.Review > t.Ng)) t = t with { Review = null };
        t.Validate();
        return t;
    }

    /// <summary>
    /// Loads a bank file (or the version a <c>NAME.current</c> pointer names, <see cref="BankVersions"/>) and the
    /// backbone it was built with; refuses a bank that does not match. With
    /// <paramref name="backbones"/>, detectors of the same backbone and weights share one network.
    /// </summary>
    public static PatchCoreDetector Load(string bankPath, DetectorOptions? options = null, SharedBackbones? backbones = null)
    {
        options ??= new DetectorOptions();
        bankPath = BankVersions.Resolve(bankPath); // NAME.current: the version it names
        var content = MemoryBankFile.Read(bankPath);
        var m = content.Metadata;
        var model = ModelOptions.OfBank(m, options.WeightsPath, options.Device, options.BatchSize, options.WorkBudgetBytes, options.MaxPixels, options.DecodeParallelism);
        FeaturePipeline pipeline;
        try
        {
            pipeline = new FeaturePipeline(model, backbones);
        }
        catch (PatchCoreException ex)
        {
            throw new BankFileException(bankPath, $"cannot set up the bank's backbone '{m.Backbone}': {ex.Message}", ex);
        }
        try
        {
            return FromContent(pipeline, ownsPipeline: true, content, bankPath, options);
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A detector over a bank fitted in memory, searched as a loaded bank is (evaluation, the builder's calibration),
    /// with the thresholds of <paramref name="calibration"/>. With <paramref name="ownsPipeline"/> the detector
    /// disposes the pipeline.
    /// </summary>
    internal static PatchCoreDetector FromFitted(FeaturePipeline pipeline, bool ownsPipeline, FittedBank fitted, Calibration calibration, DetectorOptions options) =>
        FromContent(pipeline, ownsPipeline, fitted.ToContent(pipeline, calibration) with { Checksum = "in-memory" }, "(bank in memory)", options);

    /// <summary>
    /// Refuses a bank whose vectors the pipeline cannot reproduce: other weights, preprocessing or dimension.
    /// <paramref name="source"/> names the bank in errors.
    /// </summary>
    internal static void CheckFits(FeaturePipeline pipeline, BankMetadata m, string source)
    {
        var extractor = pipeline.Extractor;
        if (!string.Equals(extractor.WeightsId, m.WeightsId, StringComparison.OrdinalIgnoreCase))
            throw new BankFileException(source, $"the bank was built with other weights ({m.Backbone}, {Describe(m.WeightsDescription, m.WeightsId)}) than the running backbone ({extractor.BackboneName}, {Describe(extractor.WeightsDescription, extractor.WeightsId)}); pass the bank's --weights file");
        if (extractor.Preprocessing != m.Preprocessing)
            throw new BankFileException(source, $"the bank's preprocessing ({m.Preprocessing}) differs from the backbone's ({extractor.Preprocessing})");
        if (pipeline.Dimension != m.Dimension)
            throw new BankFileException(source, $"the bank holds {m.Dimension}-D vectors but the backbone and embedding settings give {pipeline.Dimension}-D");
    }

    /// <summary>Refuses a bank that scores images by position without usable statistics, and <c>--reweight</c> beside such a bank.</summary>
    private static void CheckImageScore(Calibration calibration, DetectorOptions options, string source)
    {
        if (calibration.ImageScore is not (ImageScoreRule.Max or ImageScoreRule.Position))
            throw new BankFileException(source, $"the bank's image score rule is {calibration.ImageScore}, but a bank stores Max or Position (Auto is a build's choice)");
        if (calibration.ImageScore != ImageScoreRule.Position) return;
        var position = calibration.Position ?? throw new BankFileException(source, "the bank scores images by position but holds no position statistics");
        if (position.Problem() is { } problem) throw new BankFileException(source, problem);
        if (options.Scoring.Reweight)
            throw new PatchCoreException($"{source}: --reweight reweights the highest patch distance, but this bank scores images by position (its thresholds are in that rule's units): leave out --reweight.");
    }

    /// <summary>
    /// A detector over bank content in memory (a loaded file, a fitted or an updated bank): checks that the bank fits
    /// the pipeline, then sets up its search. <paramref name="source"/> names the bank in errors. With
    /// <paramref name="ownsPipeline"/> the detector disposes the pipeline.
    /// </summary>
    internal static PatchCoreDetector FromContent(FeaturePipeline pipeline, bool ownsPipeline, MemoryBankContent content, string source, DetectorOptions options)
    {
        var m = content.Metadata;
        CheckFits(pipeline, m, source);
        CheckImageScore(m.Calibration, options, source);

        var backend = SearchIndexFactory.Resolve(options.Search, m.IndexFactory, pipeline.Device.type);
        var search = SearchIndexFactory.Create(backend, content.Vectors, m.Dimension, pipeline.Device, pipeline.WorkBudgetBytes, options,
            () => ReadStoredIndex(source, content.IndexBytes));
        try
        {
            if (search.Index.Count != m.VectorCount || search.Index.Dimension != m.Dimension)
                throw new BankFileException(source, $"the stored index holds {search.Index.Count} x {search.Index.Dimension} vectors, the bank {m.VectorCount} x {m.Dimension}");
            return new PatchCoreDetector(pipeline, ownsPipeline, search, content.Vectors, m, content.Checksum, options);
        }
        catch
        {
            search.Dispose();
            throw;
        }
    }

    private static string Describe(string description, string id) =>
        $"{(string.IsNullOrEmpty(description) ? "weights" : description)} sha256 {id[..Math.Min(12, id.Length)]}";

    private static FaissIndex ReadStoredIndex(string source, byte[] bytes)
    {
        try
        {
            return FaissIndex.FromBytes(bytes);
        }
        catch (FaissException ex)
        {
            throw new BankFileException(source, $"the stored FAISS index cannot be read: {ex.Message}", ex);
        }
    }

    public BankMetadata Metadata { get; }
    /// <summary>Content checksum of the bank, hex.</summary>
    public string BankId { get; }
    /// <summary>The thresholds verdicts and regions use: the bank's calibrated ones with the options' overrides.</summary>
    public Thresholds Thresholds { get; }

    internal FeaturePipeline Pipeline => _pipeline;
    internal INearestNeighbourIndex Index => _search.Index;

    /// <inheritdoc/>
    public IEnumerable<ScoredFile> ScoreFiles(IReadOnlyList<string> paths, bool keepOriginals = false, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(paths);
        return ScoreWindows(paths, keepOriginals, ct);
    }

    private IEnumerable<ScoredFile> ScoreWindows(IReadOnlyList<string> paths, bool keepOriginals, CancellationToken ct)
    {
        foreach (var window in _pipeline.DecodeWindows(paths, keepOriginals, ct))
        {
            ScoredFile[] results;
            using (window)
                results = ScoreWindow(window, ct);
            int next = 0;
            try
            {
                for (; next < results.Length; next++)
                    yield return results[next];
            }
            finally
            {
                // A caller that stops early still frees the images of the results it never saw.
                for (int i = next + 1; i < results.Length; i++) results[i].Dispose();
            }
        }
    }

    /// <summary>Scores a decoded window batch by batch; the results are in the window's input order.</summary>
    private ScoredFile[] ScoreWindow(DecodedWindow window, CancellationToken ct)
    {
        var results = new ScoredFile?[window.Count];
        int first = window.Inputs[0].Index;
        foreach (var batch in _pipeline.Batches(window))
        {
            ct.ThrowIfCancellationRequested();
            foreach (var result in ScoreBatchOrEach(batch))
                results[result.Index - first] = result;
        }
        foreach (var input in window.Inputs)
            if (input.Error is { } error)
            {
                results[input.Index - first] = ScoredFile.Failed(input.Index, input.Path, error.Reason, error);
                ScoringMetrics.Failed();
            }
        return results.Select(r => r!).ToArray();
    }

    /// <summary>Scores one batch; if it fails, each image alone, so one image the backbone or search cannot take sinks only itself.</summary>
    private IEnumerable<ScoredFile> ScoreBatchOrEach(DecodedInput[] batch)
    {
        ScoredFile[] scored;
        try
        {
            scored = ScoreBatch(batch);
        }
        catch (Exception e) when (batch.Length > 1 && e is not OutOfMemoryException and not OperationCanceledException)
        {
            return batch.Select(input => ScoreBatchOrEach([input]).Single()).ToArray();
        }
        catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
        {
            string reason = $"scoring failed ({e.GetType().Name}): {e.Message}";
            ScoringMetrics.Failed();
            return [ScoredFile.Failed(batch[0].Index, batch[0].Path, reason, e)];
        }
        return scored;
    }

    /// <summary>
    /// Backbone, embedding, search and maps for images of one input size, then each image's verdict and regions; each
    /// result takes its image. With tiling an image's patches are those of all its tiles: its score is their maximum and
    /// its map the tiles' maps stitched (<see cref="AnomalyScorer.FromPatchScores"/>). Patches outside the bank's region of interest are set to the median of the image's
    /// inspected patches before the maxima are refined (so they never decide the image score), and the map is zero
    /// outside it (so they never form a region).
    /// </summary>
    private ScoredFile[] ScoreBatch(DecodedInput[] batch)
    {
        var images = batch.Select(i => i.Image!).ToArray();
        long t0 = Stopwatch.GetTimestamp();
        using EmbeddedBatch e = _pipeline.Embed(images);
        long t1 = Stopwatch.GetTimestamp();
        float[] patch = _scorer.PatchScores(e.Values);
        bool[]?[] inspected = images.Select(i => Metadata.Roi?.InspectedPixels(i)).ToArray();
        for (int b = 0; b < images.Length; b++)
            if (inspected[b] is { } pixels)
                NeutraliseIgnored(patch.AsSpan(b * e.PatchesPerImage, e.PatchesPerImage), e.InspectedCells(pixels, images[b].InputWidth, images[b].InputHeight));
        _scorer.RefineImageMaxima(patch, e.Values, e.PatchesPerImage);
        long t2 = Stopwatch.GetTimestamp();
        var detections = _scorer.FromPatchScores(images.Select(i => i.SourcePath).ToArray(), patch, e.Values, e.GridWidth, e.GridHeight, images[0].InputWidth, images[0].InputHeight, e.Tiles);
        var found = new (IReadOnlyList<DefectRegion>? Regions, byte[]? Pixels)[batch.Length];
        for (int j = 0; j < batch.Length; j++)
        {
            if (inspected[j] is { } pixels)
            {
                float[] values = detections[j].Map.Values;
                for (int i = 0; i < values.Length; i++) if (!pixels[i]) values[i] = 0;
            }
            if (Thresholds.Pixel is double p) found[j] = RegionFinder.Find(detections[j].Map.Values, images[j], p, _regions, inspected[j]);
            if (_position is not null)
                detections[j] = detections[j] with { Score = _position.Score(detections[j].Map.Values, detections[j].Map.Width, detections[j].Map.Height, inspected[j]) };
        }
        long t3 = Stopwatch.GetTimestamp();

        // Batch phases are shared equally among its images.
        TimeSpan embed = Stopwatch.GetElapsedTime(t0, t1) / batch.Length, search = Stopwatch.GetElapsedTime(t1, t2) / batch.Length, map = Stopwatch.GetElapsedTime(t2, t3) / batch.Length;
        var results = new ScoredFile[batch.Length];
        for (int j = 0; j < batch.Length; j++)
        {
            var timings = new ScoreTimings(batch[j].DecodeTime, embed, search, map);
            ScoringMetrics.Scored(timings);
            results[j] = ScoredFile.Scored(batch[j].Index, batch[j].Path, detections[j], timings, batch[j].TakeImage(), Thresholds.VerdictOf(detections[j].Score), found[j].Regions,
                inspected[j], found[j].Pixels);
        }
        return results;
    }

    /// <summary>Sets the scores of ignored patches [L] to the median of the inspected ones (zero when none is inspected).</summary>
    private static void NeutraliseIgnored(Span<float> patches, bool[] inspectedCells)
    {
        var kept = new List<float>(patches.Length);
        for (int p = 0; p < patches.Length; p++) if (inspectedCells[p]) kept.Add(patches[p]);
        kept.Sort();
        float median = kept.Count == 0 ? 0f : kept[kept.Count / 2];
        for (int p = 0; p < patches.Length; p++) if (!inspectedCells[p]) patches[p] = median;
    }

    /// <inheritdoc/>
    public void WriteHeatmap(ScoredFile scored, string pngPath) => HeatmapOverlay.WritePng(Overlay(scored, _overlayScale), pngPath);

    /// <summary>The heatmap overlay of a scored file as PNG bytes; <paramref name="scale"/> null = the bank's colour scale.</summary>
    public byte[] HeatmapPng(ScoredFile scored, OverlayScale? scale = null) => HeatmapOverlay.ToPngBytes(Overlay(scored, scale ?? _overlayScale));

    /// <inheritdoc/>
    public void WriteDefectMask(ScoredFile scored, string pngPath) => DefectMask.WritePng(ImageOf(scored), scored.RegionPixels, pngPath);

    private static HeatmapOverlay.Layers Overlay(ScoredFile scored, OverlayScale? scale) =>
        new(ImageOf(scored), scored.Detection!.Map.Values, scale, scored.Regions ?? [], scored.Inspected);

    private static DecodedImage ImageOf(ScoredFile scored)
    {
        if (!scored.Succeeded) throw new InvalidOperationException($"{scored.Path} was not scored ({scored.Reason}): it has no heatmap.");
        return scored.Image ?? throw new InvalidOperationException($"{scored.Path}: the result holds no image (disposed?).");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _search.Dispose();
        if (_ownsPipeline) _pipeline.Dispose();
    }
}
