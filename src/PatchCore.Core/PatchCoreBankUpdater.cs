using System.Diagnostics;
using System.Globalization;
using PatchCore.Core.Embedding;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Sampling;
using PatchCore.Core.Scoring;
using PatchCore.Core.Search;

namespace PatchCore.Core;

/// <summary>
/// Updates a bank with new good images without a rebuild, into a new file; the old bank is only read.
/// <para>
/// The new images are embedded through the builder's decode windows (<see cref="PatchCoreBankBuilder.AppendFeatures"/>,
/// inside the bank's region of interest) and projected with the bank's own coreset projection (same seed and width,
/// <see cref="RowProjector"/>), as are the bank's vectors. The greedy k-center then continues from the bank's vectors as
/// centres already chosen: each new patch starts at its projected distance to the nearest bank vector, and the
/// farthest one is added while it is farther than the coverage radius the bank stored when it was built (or until the
/// count or share the caller gives). The new bank is the old vectors followed by the added ones; its FAISS index is
/// rebuilt (<see cref="SearchIndexFactory.BuildStored"/>), and its thresholds are calibrated again from good images only
/// (<see cref="ThresholdCalibrator"/>): the parent's held-out images scored against the new bank (or their old scores
/// kept where the files are gone) plus a held-out share of the new images.
/// </para>
/// <para>
/// What it is equivalent to: exactly the same greedy (the blocked loop of a build, <see cref="CoresetSampler.Extend"/>)
/// continued from the old centres over the new candidates; every new patch ends within the radius, and every old one
/// already was, so the new bank covers all the images it has seen at the build's radius. Where it differs from a
/// rebuild over old and new images: the old candidates are gone, so old regions are never chosen again (an old
/// region the new images also cover keeps its old centres, where a rebuild might place them differently); the order
/// differs (a rebuild interleaves old and new patches by distance, the update takes the old bank whole first), so the
/// two banks hold different, similarly spread vectors, usually of similar size; and the bank's vectors are stored
/// in float16 precision, so their projections differ from the build's by that rounding.
/// </para>
/// Cancellable, with progress; memory is the new candidates' projections (as in a build: their full rows wait in a
/// temp file) plus the old and new vectors, so a host can run it in the background.
/// </summary>
public static class PatchCoreBankUpdater
{
    public static UpdateSummary Update(UpdateOptions options, IProgress<BuildProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string parentPath = Path.GetFullPath(BankVersions.Resolve(options.BankPath));
        string series = BankVersions.SeriesOf(options.BankPath);
        string? outPath = options.OutPath is null ? null : Path.GetFullPath(options.OutPath);
        if (outPath is not null && (PathsEqual(outPath, parentPath) || PathsEqual(outPath, Path.GetFullPath(options.BankPath))))
            throw new PatchCoreException($"{outPath}: the output is the bank being updated; write the update to another file (the old bank is never modified).");

        var parent = MemoryBankFile.Read(parentPath); // refuses a missing, truncated or corrupt bank, naming it
        var m = parent.Metadata;
        CheckRequest(options, m, parentPath);
        var (bankImages, heldOut) = options.SplitHoldOut();
        var added = Identify(bankImages, heldOut);

        using var pipeline = OpenPipeline(options, m, parentPath);
        var sw = Stopwatch.StartNew();
        using var store = Embed(pipeline, m, bankImages, options, progress, ct);
        var featureTime = sw.Elapsed;

        sw.Restart();
        var (maxCount, stopAt, rule) = Limit(options, m, store.Count);
        IProgress<double>? coresetProgress = progress is null ? null : new SyncProgress<double>(f => progress.Report(new BuildProgress("coreset", f, 1)));
        float[] bankRows = store.Project(parent.Vectors); // [K, D] -> [K, P]: the bank's centres in the store's own projection
        var selection = CoresetSampler.Extend(store, bankRows, maxCount, stopAt, m.Coreset.Seed, coresetProgress, ct);
        float[] vectors = [.. parent.Vectors, .. store.ReadRows(selection.Indices)]; // [K + added, D]: the old vectors first, unchanged
        var coresetTime = sw.Elapsed;

        sw.Restart();
        progress?.Report(new BuildProgress("index", 0, 1));
        var (indexBytes, indexFactory) = SearchIndexFactory.BuildStored(m.IndexFactory, vectors, m.Dimension);
        progress?.Report(new BuildProgress("index", 1, 1));
        var indexTime = sw.Elapsed;

        var update = new BankUpdate
        {
            ParentId = parent.Checksum,
            ParentFile = Path.GetFileName(parentPath),
            UpdatedUtc = DateTimeOffset.UtcNow,
            Added = added,
            VectorsBefore = m.VectorCount,
            VectorsAdded = selection.Indices.Length,
            Candidates = store.Count,
            Rule = rule,
        };
        var metadata = Updated(m, update, selection, indexFactory, vectors.Length / m.Dimension, bankImages);

        sw.Restart();
        var heldOutImages = Inherited(m.Calibration)
            .Concat(heldOut.Select((p, i) => HeldOutImage.At(p) with { Sha256 = added[bankImages.Length + i].Sha256 }))
            .ToArray();
        var calibration = Calibrate(pipeline, new MemoryBankContent(metadata, vectors, indexBytes) { Checksum = "in-memory" }, heldOutImages, options, progress, ct);
        metadata = metadata with { Calibration = calibration };
        var calibrationTime = sw.Elapsed;

        ct.ThrowIfCancellationRequested();
        int? version = null;
        if (outPath is null) (outPath, version) = PrepareVersion(series, parentPath, parent.Checksum);
        string id = MemoryBankFile.Write(outPath, metadata, vectors, indexBytes, overwrite: version is null);
        if (version is int v) BankVersions.SetCurrent(series, v);

        return new UpdateSummary
        {
            BankPath = outPath,
            BankId = id,
            Version = version,
            ParentPath = parentPath,
            ParentId = parent.Checksum,
            BankImages = bankImages.Length,
            HeldOutImages = heldOut.Length,
            Candidates = store.Count,
            VectorsBefore = m.VectorCount,
            VectorsAdded = selection.Indices.Length,
            Dimension = m.Dimension,
            Rule = rule,
            ParentCoverageRadius = m.Coreset.CoverageRadius,
            LargestRemaining = selection.LargestRemaining,
            CoverageRadius = metadata.Coreset.CoverageRadius,
            OldThresholds = ThresholdsOf(m.Calibration),
            NewThresholds = ThresholdsOf(calibration),
            HeldOutScored = heldOutImages.Length - calibration.CarriedOver.Count,
            CarriedOver = calibration.CarriedOver,
            FeatureTime = featureTime,
            CoresetTime = coresetTime,
            IndexTime = indexTime,
            CalibrationTime = calibrationTime,
        };
    }

    /// <summary>The bank's own backbone, weights and geometry; a bank whose backbone cannot be set up is named.</summary>
    private static FeaturePipeline OpenPipeline(UpdateOptions options, BankMetadata m, string bankPath)
    {
        FeaturePipeline pipeline;
        try
        {
            pipeline = new FeaturePipeline(ModelOptions.OfBank(m, options.WeightsPath, options.Device, options.BatchSize, options.WorkBudgetBytes, options.MaxPixels, options.DecodeParallelism));
        }
        catch (PatchCoreException ex) when (ex is not BankFileException)
        {
            throw new BankFileException(bankPath, $"cannot set up the bank's backbone '{m.Backbone}': {ex.Message}", ex);
        }
        try
        {
            PatchCoreDetector.CheckFits(pipeline, m, bankPath);
            return pipeline;
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }
    }

    /// <summary>The new images' patches [N, D] (inside the bank's region of interest), projected as the bank's were.</summary>
    private static CandidateStore Embed(FeaturePipeline pipeline, BankMetadata m, string[] bankImages, UpdateOptions options,
        IProgress<BuildProgress>? progress, CancellationToken ct)
    {
        var store = new CandidateStore(m.Dimension, new CandidateStoreOptions
        {
            ProjectionDim = m.Coreset.ProjectionDimension,
            Seed = m.Coreset.Seed,
            Device = pipeline.Device,
            RowStorage = options.CandidateRows,
        });
        try
        {
            PatchCoreBankBuilder.AppendFeatures(store, pipeline, bankImages, m.Roi, progress, ct);
            if (store.Count == 0)
                throw new PatchCoreException($"The new images have no patch inside the bank's region of interest ({bankImages.Length} images): nothing to add.");
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>The parent's metadata with the added vectors, images and lineage entry <paramref name="update"/>.</summary>
    private static BankMetadata Updated(BankMetadata m, BankUpdate update, CoresetSelection selection, string indexFactory, int vectorCount, string[] bankImages) => m with
    {
        // The radius the new bank covers everything it has seen at: the parent's, unless a count stopped above it.
        Coreset = m.Coreset with { CoverageRadius = m.Coreset.CoverageRadius is double r ? Math.Max(r, selection.LargestRemaining) : null },
        IndexFactory = indexFactory,
        VectorCount = vectorCount,
        CandidateCount = m.CandidateCount + update.Candidates,
        TrainingImageCount = m.TrainingImageCount + bankImages.Length,
        TrainingImages = [.. m.TrainingImages, .. bankImages.Select(Path.GetFileName)!],
        CreatedUtc = update.UpdatedUtc,
        Updates = [.. m.Updates, update],
    };

    /// <summary>Thresholds from good images only, through the one scoring path against the new bank (still in memory).</summary>
    private static Calibration Calibrate(FeaturePipeline pipeline, MemoryBankContent bank, HeldOutImage[] heldOut, UpdateOptions options,
        IProgress<BuildProgress>? progress, CancellationToken ct)
    {
        using var detector = PatchCoreDetector.FromContent(pipeline, ownsPipeline: false, bank, "(updated bank in memory)", new DetectorOptions { Scoring = options.Scoring });
        // the image score rule is the bank's own: its thresholds are in that rule's units
        var rules = options.Rules with { ImageScore = bank.Metadata.Calibration.ImageScore };
        return ThresholdCalibrator.Calibrate(detector, heldOut, rules, bank.Metadata.Calibration, progress, ct);
    }

    /// <summary>Refuses an update the bank cannot take: a model option that is not the bank's, or no rule for how many vectors to add.</summary>
    private static void CheckRequest(UpdateOptions o, BankMetadata m, string bank)
    {
        if (o.Backbone is string backbone && !string.Equals(backbone, m.Backbone, StringComparison.OrdinalIgnoreCase))
            throw new PatchCoreException($"{bank}: the bank was built with backbone {m.Backbone}, not {backbone}; an update embeds new images with the bank's own backbone.");
        // --resize/--crop check the resize and crop only; the tiling and whether the size was chosen automatically follow the bank
        if (o.Geometry is { } geometry && geometry with { Tile = m.Geometry.Tile, Auto = m.Geometry.Auto } != m.Geometry)
            throw new PatchCoreException($"{bank}: the bank's images were taken at {m.Geometry}, not {geometry} (--resize/--crop); an update embeds new images as the bank's were.");
        if (o.Embedding is { } embedding && embedding != m.Embedding)
            throw new PatchCoreException($"{bank}: the bank's embedding is {Describe(m.Embedding)}, not {Describe(embedding)} (--embedding).");
        if (o.Roi is { } roi)
        {
            if (m.Roi is null)
                throw new PatchCoreException($"{bank}: the bank inspects whole images; the given region of interest (--roi) is not the bank's.");
            if (!roi.SameMask(m.Roi))
                throw new PatchCoreException($"{bank}: the given region of interest (--roi, {roi.Width}x{roi.Height}) is not the bank's ({m.Roi.Width}x{m.Roi.Height}, another mask).");
        }
        if (o.Seed is int seed && seed != m.Coreset.Seed)
            throw new PatchCoreException($"{bank}: the bank's coreset projection has seed {m.Coreset.Seed}, not {seed} (--seed); an update continues in the bank's own projection.");
        if (o.WeightsPath is string weights)
        {
            string id = Backbones.WeightsIdentity.Of(weights);
            if (!string.Equals(id, m.WeightsId, StringComparison.OrdinalIgnoreCase))
                throw new PatchCoreException($"{bank}: {weights} (sha256 {id[..12]}) is not the weights file the bank was built with ({Describe(m)}).");
        }
        if (o.CoresetCount is null && o.CoresetFraction is null && m.Coreset.CoverageRadius is null)
            throw new PatchCoreException($"{bank}: the bank records no coverage radius (it was built before radii were stored, or with a coreset too small to bound its patches), so the update cannot tell when the new images are covered: give --coreset COUNT or FRACTION to say how many vectors to add.");
    }

    private static string Describe(EmbeddingOptions e) => $"{e.Mode} (patch {e.PatchSize}, {e.TargetDimension}-D)";

    private static string Describe(BankMetadata m) =>
        $"{(string.IsNullOrEmpty(m.WeightsDescription) ? m.Backbone : m.WeightsDescription)}, sha256 {m.WeightsId[..Math.Min(12, m.WeightsId.Length)]}";

    /// <summary>How many vectors at most, the radius to stop at, and the rule in words.</summary>
    private static (int MaxCount, float? StopAt, string Rule) Limit(UpdateOptions o, BankMetadata m, long candidates)
    {
        if (o.CoresetCount is not null || o.CoresetFraction is not null)
        {
            int count = new CoresetOptions(o.CoresetFraction ?? 1.0, o.CoresetCount).ResolveCount(candidates);
            string rule = o.CoresetCount is int c
                ? string.Create(CultureInfo.InvariantCulture, $"count {c}{(count < c ? $" (all {count} new patches)" : "")}")
                : string.Create(CultureInfo.InvariantCulture, $"share {o.CoresetFraction:0.###} of {candidates:N0} new patches = {count:N0}");
            return (count, null, rule);
        }
        double radius = m.Coreset.CoverageRadius!.Value;
        int max = (int)Math.Min(candidates, o.MaxAddedVectors ?? int.MaxValue);
        string cap = o.MaxAddedVectors is int cap0 ? string.Create(CultureInfo.InvariantCulture, $", at most {cap0:N0}") : "";
        return (max, (float)radius, string.Create(CultureInfo.InvariantCulture, $"coverage radius {radius:0.####} (the parent's){cap}"));
    }

    /// <summary>Every new image's name and sha256, bank images first, then the held-out ones, each in its order; the file that cannot be read is named.</summary>
    private static AddedImage[] Identify(string[] bankImages, string[] heldOut) =>
        bankImages.Select(p => (Path: p, HeldOut: false)).Concat(heldOut.Select(p => (Path: p, HeldOut: true))).Select(i =>
        {
            try
            {
                return new AddedImage(Path.GetFileName(i.Path), FileSha256.Of(i.Path), i.HeldOut);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new ImageLoadException(i.Path, "file not found", e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ImageLoadException(i.Path, $"cannot be read: {e.Message}", e);
            }
        }).ToArray();

    /// <summary>The parent's held-out images with what it recorded of them (paths and sha256 when it kept them).</summary>
    private static IEnumerable<HeldOutImage> Inherited(Calibration c) =>
        c.HeldOutImages.Select((name, i) => new HeldOutImage(name,
            c.HeldOutPaths is { } paths && i < paths.Count ? paths[i] : null,
            c.HeldOutSha256 is { } sha && i < sha.Count ? sha[i] : null,
            c.HeldOutScores[i]));

    private static Thresholds ThresholdsOf(Calibration c) => new() { Ng = c.Threshold, Review = c.ReviewThreshold, Pixel = c.PixelThreshold };

    /// <summary>
    /// The next version's path in <paramref name="series"/>. A bank that is not a version yet (a plain NAME.pcbank)
    /// starts the series: its bytes are copied as v1 (checked against its checksum), so the new version's parent is in it.
    /// </summary>
    private static (string Path, int Version) PrepareVersion(string series, string parentPath, string parentId)
    {
        if (BankVersions.Versions(series).Count == 0)
        {
            string first = BankVersions.VersionPath(series, 1);
            string tmp = $"{first}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
            try
            {
                File.Copy(parentPath, tmp);
                if (MemoryBankFile.Read(tmp).Checksum != parentId)
                    throw new BankFileException(parentPath, "changed while it was being updated: its copy as v1 has another checksum");
                File.Move(tmp, first, overwrite: false);
            }
            finally
            {
                if (File.Exists(tmp)) File.Delete(tmp);
            }
        }
        string next = BankVersions.NextVersionPath(series);
        return (next, BankVersions.VersionOf(next)!.Value);
    }

    private static bool PathsEqual(string a, string b) => string.Equals(a, b, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
}
