using System.Diagnostics;
using PatchCore.Core.Devices;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;

namespace PatchCore.Core;

public enum SearchBackend
{
    /// <summary>
    /// The fastest exact search for the bank and device: <see cref="Projected"/> for a Flat bank on the CPU,
    /// <see cref="Torch"/> for a Flat bank on CUDA, and the bank's own FAISS index when it is approximate.
    /// </summary>
    Auto,
    /// <summary>The FAISS index stored in the bank (exact flat or approximate).</summary>
    Faiss,
    /// <summary>Exact chunked search on the torch device (the natural choice on CUDA).</summary>
    Torch,
    /// <summary>Exact search on the CPU, pruned by lower bounds in the bank's principal components (<see cref="ProjectedFlatIndex"/>).</summary>
    Projected,
    /// <summary>
    /// Approximate search on the CPU: inverted lists in the principal components, a shortlist re-ranked exactly
    /// (<see cref="ProjectedIvfIndex"/>); each image's highest patches are then re-searched exactly, so image scores
    /// are exact and only the anomaly map is approximate (<see cref="AnomalyScorer.RefineImageMaxima"/>).
    /// </summary>
    ProjectedApproximate,
}

/// <summary>How a loaded bank scores images.</summary>
public sealed record DetectorOptions(DeviceKind Device = DeviceKind.Auto, int? BatchSize = null, long MaxPixels = ImageDecoder.DefaultMaxPixels)
{
    /// <summary>The torchvision checkpoint the bank was built with, when it was not the packaged ResNet18.</summary>
    public string? WeightsPath { get; init; }
    public SearchBackend Search { get; init; } = SearchBackend.Auto;
    /// <summary>Settings of the exact projected search (<see cref="SearchBackend.Projected"/>); null = its default.</summary>
    public ProjectedSearchOptions? Projected { get; init; }
    /// <summary>Settings of the approximate projected search (<see cref="SearchBackend.ProjectedApproximate"/>); null = its default.</summary>
    public ProjectedIvfOptions? ProjectedApproximate { get; init; }
    public ScoringOptions Scoring { get; init; } = new();
    public long? WorkBudgetBytes { get; init; }
    /// <summary>FAISS search-time parameters for approximate indexes (nprobe, efSearch); null = FAISS's defaults.</summary>
    public IReadOnlyDictionary<string, double>? SearchParameters { get; init; }
}

/// <summary>
/// The common case in one object: a memory bank loaded with its backbone, scoring images into image scores and
/// anomaly maps. <see cref="Decode"/> is thread-safe; <see cref="Score"/> scores one batch at a time.
/// </summary>
public sealed class PatchCoreDetector : IDisposable
{
    private readonly FeaturePipeline _pipeline;
    private readonly INearestNeighbourIndex _index;
    private readonly INearestNeighbourIndex? _exactForMaxima;
    private readonly AnomalyScorer _scorer;
    private bool _disposed;

    internal PatchCoreDetector(FeaturePipeline pipeline, SearchIndexes search, float[] bankVectors, BankMetadata metadata, string bankId, ScoringOptions scoring)
    {
        _pipeline = pipeline;
        _index = search.Index;
        _exactForMaxima = search.ExactForMaxima;
        Metadata = metadata;
        BankId = bankId;
        int chunk = WorkSizing.SearchChunkRows(pipeline.WorkBudgetBytes, _index.Count, _index.Dimension);
        _scorer = new AnomalyScorer(_index, bankVectors, scoring, chunk, _exactForMaxima);
    }

    /// <summary>The index that scores patches and, for an approximate projected search, the exact one that makes image maxima exact.</summary>
    internal sealed record SearchIndexes(INearestNeighbourIndex Index, INearestNeighbourIndex? ExactForMaxima = null) : IDisposable
    {
        public void Dispose()
        {
            Index.Dispose();
            ExactForMaxima?.Dispose();
        }
    }

    /// <summary>The indexes for a resolved backend over the bank's vectors; <paramref name="faiss"/> supplies the FAISS index when that is the choice.</summary>
    internal static SearchIndexes CreateSearch(SearchBackend backend, float[] vectors, int dimension, FeaturePipeline pipeline, DetectorOptions options, Func<INearestNeighbourIndex> faiss)
    {
        switch (backend)
        {
            case SearchBackend.Torch:
                return new SearchIndexes(CreateTorchIndex(vectors, dimension, pipeline));
            case SearchBackend.Projected:
                return new SearchIndexes(CreateProjectedIndex(vectors, dimension, pipeline, options.Projected ?? ProjectedSearchOptions.ExactDefault));
            case SearchBackend.ProjectedApproximate:
                var exact = CreateProjectedIndex(vectors, dimension, pipeline, options.Projected ?? ProjectedSearchOptions.ExactDefault);
                try
                {
                    var ivf = ProjectedIvfIndex.Over(vectors, dimension, options.ProjectedApproximate);
                    ivf.Prepare();
                    return new SearchIndexes(ivf, exact);
                }
                catch
                {
                    exact.Dispose();
                    throw;
                }
            default:
                return new SearchIndexes(faiss());
        }
    }

    /// <summary>Loads a bank file and the backbone it was built with; refuses a bank that does not match.</summary>
    public static PatchCoreDetector Load(string bankPath, DetectorOptions? options = null)
    {
        options ??= new DetectorOptions();
        var content = MemoryBankFile.Read(bankPath);
        var m = content.Metadata;
        var model = new ModelOptions
        {
            Backbone = m.Backbone,
            WeightsPath = options.WeightsPath,
            Geometry = m.Geometry,
            Embedding = m.Embedding,
            Device = options.Device,
            BatchSize = options.BatchSize,
            WorkBudgetBytes = options.WorkBudgetBytes,
            MaxPixels = options.MaxPixels,
        };
        FeaturePipeline pipeline;
        try
        {
            pipeline = new FeaturePipeline(model);
        }
        catch (PatchCoreException ex)
        {
            throw new BankFileException(bankPath, $"cannot set up the bank's backbone '{m.Backbone}': {ex.Message}", ex);
        }
        SearchIndexes? search = null;
        try
        {
            var extractor = pipeline.Extractor;
            if (!string.Equals(extractor.WeightsId, m.WeightsId, StringComparison.OrdinalIgnoreCase))
                throw new BankFileException(bankPath, $"the bank was built with other weights ({m.Backbone}, {Describe(m.WeightsDescription, m.WeightsId)}) than the running backbone ({extractor.BackboneName}, {Describe(extractor.WeightsDescription, extractor.WeightsId)}); pass the bank's --weights file");
            if (extractor.Preprocessing != m.Preprocessing)
                throw new BankFileException(bankPath, $"the bank's preprocessing ({m.Preprocessing}) differs from the backbone's ({extractor.Preprocessing})");
            if (pipeline.Dimension != m.Dimension)
                throw new BankFileException(bankPath, $"the bank holds {m.Dimension}-D vectors but the backbone and embedding settings give {pipeline.Dimension}-D");
            search = CreateSearch(ResolveSearch(options.Search, m.IndexFactory, pipeline.Device.type), content.Vectors, m.Dimension, pipeline, options,
                () => LoadFaiss(bankPath, content));
            var index = search.Index;
            if (index.Count != m.VectorCount || index.Dimension != m.Dimension)
                throw new BankFileException(bankPath, $"the stored index holds {index.Count} x {index.Dimension} vectors, the bank {m.VectorCount} x {m.Dimension}");
            if (options.SearchParameters is { } parameters && index is FaissIndex faiss)
                foreach (var (name, value) in parameters) faiss.SetSearchParameter(name, value);
            return new PatchCoreDetector(pipeline, search, content.Vectors, m, content.Checksum, options.Scoring);
        }
        catch
        {
            search?.Dispose();
            pipeline.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A detector over a bank fitted in memory (used by evaluation). Takes ownership of both; when the search is not
    /// the fitted FAISS index, that index is disposed here and the vectors are searched by the chosen one.
    /// </summary>
    public static PatchCoreDetector FromFitted(FeaturePipeline pipeline, FittedBank fitted, ScoringOptions scoring, SearchBackend search = SearchBackend.Auto)
    {
        var metadata = fitted.Describe(pipeline, new Calibration());
        var backend = ResolveSearch(search, fitted.Index.Description, pipeline.Device.type);
        var indexes = CreateSearch(backend, fitted.Vectors, fitted.Dimension, pipeline, new DetectorOptions(), () => fitted.Index);
        if (!ReferenceEquals(indexes.Index, fitted.Index)) fitted.Index.Dispose();
        return new PatchCoreDetector(pipeline, indexes, fitted.Vectors, metadata, "in-memory", scoring);
    }

    private static string Describe(string description, string id) =>
        $"{(string.IsNullOrEmpty(description) ? "weights" : description)} sha256 {id[..Math.Min(12, id.Length)]}";

    private static FaissIndex LoadFaiss(string bankPath, MemoryBankContent content)
    {
        try
        {
            return FaissIndex.FromBytes(content.IndexBytes);
        }
        catch (FaissException ex)
        {
            throw new BankFileException(bankPath, $"the stored FAISS index cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>What <see cref="SearchBackend.Auto"/> means for a bank's index and the pipeline's device.</summary>
    public static SearchBackend ResolveSearch(SearchBackend requested, string indexFactory, TorchSharp.DeviceType device)
    {
        if (requested != SearchBackend.Auto) return requested;
        if (!string.Equals(indexFactory, "Flat", StringComparison.OrdinalIgnoreCase)) return SearchBackend.Faiss;
        return device == TorchSharp.DeviceType.CPU ? SearchBackend.Projected : SearchBackend.Torch;
    }

    /// <summary>A projected index sharing the bank's vector array, fitted now so that the first image is not slower.</summary>
    internal static ProjectedFlatIndex CreateProjectedIndex(float[] vectors, int dimension, FeaturePipeline pipeline, ProjectedSearchOptions options)
    {
        var index = ProjectedFlatIndex.Over(vectors, dimension, options, pipeline.WorkBudgetBytes);
        index.Prepare();
        return index;
    }

    internal static TorchExactIndex CreateTorchIndex(float[] vectors, int dimension, FeaturePipeline pipeline)
    {
        var index = new TorchExactIndex(dimension, pipeline.Device, pipeline.WorkBudgetBytes);
        index.Add(vectors);
        return index;
    }

    public BankMetadata Metadata { get; }
    /// <summary>Content checksum of the bank, hex.</summary>
    public string BankId { get; }
    /// <summary>The bank's calibrated default threshold (null when it held out no images).</summary>
    public double? Threshold => Metadata.Calibration.Threshold;
    public int RecommendedBatchSize => _pipeline.BatchSize;
    public FeaturePipeline Pipeline => _pipeline;
    public INearestNeighbourIndex Index => _index;

    /// <summary>Time spent in the last <see cref="Score"/> call: backbone+embedding, search, map.</summary>
    public ScoreTimings LastTimings { get; private set; } = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);

    /// <summary>Decodes a file at the bank's geometry, keeping the original pixels for overlays. Thread-safe.</summary>
    public DecodedImage Decode(string path) => _pipeline.Decoder.Decode(path, keepOriginal: true);

    /// <summary>Decodes without keeping the original pixels (less memory; overlays then show the model input).</summary>
    public DecodedImage DecodeForScoring(string path) => _pipeline.Decoder.Decode(path, keepOriginal: false);

    /// <summary>Scores images (any sizes; grouped by input size and batched). Results are in input order.</summary>
    public IReadOnlyList<Detection> Score(IReadOnlyList<DecodedImage> images)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var results = new Detection[images.Count];
        TimeSpan embed = TimeSpan.Zero, search = TimeSpan.Zero, map = TimeSpan.Zero;
        var order = Enumerable.Range(0, images.Count).GroupBy(i => (images[i].InputWidth, images[i].InputHeight));
        foreach (var group in order)
        {
            int[] members = group.ToArray();
            for (int start = 0; start < members.Length; start += _pipeline.BatchSize)
            {
                int[] batch = members.Skip(start).Take(_pipeline.BatchSize).ToArray();
                var imgs = batch.Select(i => images[i]).ToArray();
                long t0 = Stopwatch.GetTimestamp();
                EmbeddedBatch e = _pipeline.Embed(imgs);
                long t1 = Stopwatch.GetTimestamp();
                float[] patch = _scorer.PatchScores(e.Values);
                _scorer.RefineImageMaxima(patch, e.Values, e.PatchesPerImage);
                long t2 = Stopwatch.GetTimestamp();
                var detections = _scorer.FromPatchScores(imgs.Select(i => i.SourcePath).ToArray(), patch, e.Values, e.GridWidth, e.GridHeight, imgs[0].InputWidth, imgs[0].InputHeight);
                long t3 = Stopwatch.GetTimestamp();
                embed += Stopwatch.GetElapsedTime(t0, t1);
                search += Stopwatch.GetElapsedTime(t1, t2);
                map += Stopwatch.GetElapsedTime(t2, t3);
                for (int j = 0; j < batch.Length; j++) results[batch[j]] = detections[j];
            }
        }
        LastTimings = new ScoreTimings(embed, search, map);
        return results;
    }

    /// <summary>Writes the heatmap overlay PNG of a scored image (colour scale relative to <paramref name="threshold"/> or the bank's).</summary>
    public void WriteHeatmapOverlay(DecodedImage image, Detection detection, string pngPath, double? threshold = null) =>
        HeatmapOverlay.WritePng(image, detection.Map.Values, threshold ?? Threshold, pngPath);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _index.Dispose();
        _exactForMaxima?.Dispose();
        _pipeline.Dispose();
    }
}

public sealed record ScoreTimings(TimeSpan Embedding, TimeSpan Search, TimeSpan Map);
