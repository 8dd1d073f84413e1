using System.CommandLine;
using System.Globalization;
using PatchCore.Core;
using PatchCore.Core.Devices;
using PatchCore.Core.Embedding;
using PatchCore.Core.Imaging;

namespace PatchCore.Cli;

/// <summary>The model and bank options shared by build and eval, parsed and validated where they enter.</summary>
internal sealed class CommonOptions
{
    public Option<string> Backbone { get; } = new("--backbone") { Description = "Backbone: resnet18 (default), resnet50, wide_resnet50_2.", DefaultValueFactory = _ => "resnet18" };
    public Option<FileInfo?> Weights { get; } = new("--weights") { Description = "A torchvision checkpoint (.pth or .safetensors); default: the packaged ImageNet ResNet18." };
    public Option<string?> Resize { get; } = new("--resize") { Description = "256 = shorter side to 256 (default); WxH = exactly that size; native = no resize (needs --crop none)." };
    public Option<string?> Crop { get; } = new("--crop") { Description = "Centre crop size (default 224), or none to keep the whole resized image." };
    public Option<string?> Geometry { get; } = new("--geometry") { Description = "auto = choose the size from the training images: their median aspect, whole part (crop none), at most 512x256 pixels; stored in the bank. Not with --resize/--crop." };
    public Option<string?> Tile { get; } = new("--tile") { Description = "SIZE[:OVERLAP]: cut the whole (resized) image into overlapping SIZE x SIZE tiles (overlap default 32), each its own backbone input; without --resize the images keep their native size." };
    public Option<string> Coreset { get; } = new("--coreset") { Description = "Share of patches kept (0.1) or an absolute count (e.g. 20000).", DefaultValueFactory = _ => "0.1" };
    public Option<string> CoresetMethod { get; } = new("--coreset-method") { Description = "auto (exact up to 1,000,000 candidate patches, two-stage above), exact or two-stage.", DefaultValueFactory = _ => "auto" };
    public Option<string> Index { get; } = new("--index") { Description = "FLAT (exact) or a FAISS factory string such as IVF1024,Flat or HNSW32.", DefaultValueFactory = _ => "FLAT" };
    public Option<string> Device { get; } = new("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => "auto" };
    public Option<int?> BatchSize { get; } = new("--batch-size") { Description = "Images (tiles with --tile) per backbone batch (default: sized from free memory)." };
    public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the coreset's projection and start points.", DefaultValueFactory = _ => 0 };
    public Option<string> Embedding { get; } = new("--embedding") { Description = "paper (1024-D, default) or concat (anomalib's, 384-D for resnet18).", DefaultValueFactory = _ => "paper" };
    public Option<double> HoldOut { get; } = new("--holdout") { Description = "Share of good images kept out of the bank to calibrate the thresholds (0 = every image in the bank, no thresholds).", DefaultValueFactory = _ => 0.1 };
    public Option<string> ImageScore { get; } = new("--image-score")
    {
        Description = "auto (default): position when the held-out images give at least 8 maps of one size, else max; max: the highest patch distance, as the paper; position: how far the anomaly map stands above the held-out good images' maps at the same place, for parts that sit in one place (needs one input size and at least 8 held-out images). The bank stores the rule used.",
        DefaultValueFactory = _ => "auto",
    };
    public Option<FileInfo?> Roi { get; } = new("--roi") { Description = "Region-of-interest mask (any size; white = inspect, black = ignore), stored in the bank." };

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Backbone, Weights, Resize, Crop, Geometry, Tile, Coreset, CoresetMethod, Index, Device, BatchSize, Seed, Embedding, HoldOut, ImageScore, Roi })
            command.Add(o);
    }

    public BuildOptions ToBuildOptions(ParseResult r, IReadOnlyList<string> images, string outPath)
    {
        var mode = ParseEmbedding(r.GetValue(Embedding)!);
        bool auto = ParseAuto(r.GetValue(Geometry), r.GetValue(Resize), r.GetValue(Crop));
        var model = new ModelOptions
        {
            Backbone = r.GetValue(Backbone)!,
            WeightsPath = r.GetValue(Weights)?.FullName,
            Geometry = ParseGeometry(r.GetValue(Resize), r.GetValue(Crop), r.GetValue(Tile), auto),
            Embedding = new EmbeddingOptions { Mode = mode },
            Device = ComputeDevice.Parse(r.GetValue(Device)!),
            BatchSize = r.GetValue(BatchSize),
        };
        var (fraction, count) = ParseCoreset(r.GetValue(Coreset)!);
        string index = r.GetValue(Index)!;
        return new BuildOptions(images, outPath)
        {
            Model = model,
            AutoGeometry = auto,
            CoresetFraction = fraction,
            CoresetCount = count,
            CoresetMethod = ParseCoresetMethod(r.GetValue(CoresetMethod)!),
            Seed = r.GetValue(Seed),
            IndexFactory = index.Equals("flat", StringComparison.OrdinalIgnoreCase) ? "Flat" : index,
            HoldOutFraction = r.GetValue(HoldOut),
            ImageScore = ParseImageScore(r.GetValue(ImageScore)!),
            Roi = r.GetValue(Roi) is { } roi ? RegionOfInterest.Load(roi.FullName) : null,
        };
    }

    /// <summary>
    /// True for <c>--geometry auto</c>, which chooses the resize and crop itself: refused beside <c>--resize</c> or
    /// <c>--crop</c>. False = the geometry those options give.
    /// </summary>
    internal static bool ParseAuto(string? geometry, string? resize, string? crop)
    {
        if (geometry is null) return false;
        if (!geometry.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase))
            throw new PatchCoreException($"Unknown --geometry '{geometry}': expected auto (or leave it out and give --resize/--crop).");
        if (resize is not null || crop is not null)
            throw new PatchCoreException($"--geometry auto chooses the resize and crop itself: leave out {(resize is not null ? $"--resize {resize}" : $"--crop {crop}")}, or leave out --geometry auto.");
        return true;
    }

    /// <summary>
    /// The geometry of <c>--resize</c>, <c>--crop</c> and <c>--tile</c>. Unset resize and crop mean the paper's 256 and 224;
    /// with <c>--tile</c> they mean native size and crop none (tiles cover the whole image). With
    /// <paramref name="auto"/> the resize is a placeholder that <see cref="BuildOptions.ResolveGeometry"/> replaces.
    /// </summary>
    internal static ImageGeometry ParseGeometry(string? resize, string? crop, string? tile, bool auto = false)
    {
        if (auto) return ImageGeometry.Parse("256", "none", tile);
        bool tiled = tile is not null;
        return ImageGeometry.Parse(resize ?? (tiled ? "native" : "256"), crop ?? (tiled ? "none" : "224"), tile);
    }

    internal static EmbeddingMode ParseEmbedding(string text) => text.Trim().ToLowerInvariant() switch
    {
        "paper" => EmbeddingMode.Paper,
        "concat" => EmbeddingMode.Concat,
        var other => throw new PatchCoreException($"Unknown --embedding '{other}': expected paper or concat."),
    };

    internal static Core.Sampling.CoresetMethod ParseCoresetMethod(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => Core.Sampling.CoresetMethod.Auto,
        "exact" => Core.Sampling.CoresetMethod.Exact,
        "two-stage" => Core.Sampling.CoresetMethod.TwoStage,
        var other => throw new PatchCoreException($"Unknown --coreset-method '{other}': expected auto, exact or two-stage."),
    };

    internal static Core.Scoring.ImageScoreRule ParseImageScore(string text) => text.Trim().ToLowerInvariant() switch
    {
        "max" => Core.Scoring.ImageScoreRule.Max,
        "position" => Core.Scoring.ImageScoreRule.Position,
        "auto" => Core.Scoring.ImageScoreRule.Auto,
        var other => throw new PatchCoreException($"Unknown --image-score '{other}': expected auto, max or position."),
    };

    internal static (double Fraction, int? Count) ParseCoreset(string text)
    {
        text = text.Trim();
        if (text.Contains('.'))
        {
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double share) && share > 0 && share <= 1)
                return (share, null);
        }
        else if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count >= 1)
        {
            return (1.0, count);
        }
        throw new PatchCoreException($"Invalid --coreset '{text}': expected a share in (0, 1] such as 0.1, or a whole number of patches such as 20000.");
    }
}

internal static class ImagePaths
{
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"];

    public static bool IsImage(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>Files as given, folders recursively (images only, sorted). Missing paths are returned as-is so they get an error line.</summary>
    public static List<string> Expand(IEnumerable<string> paths)
    {
        var result = new List<string>();
        foreach (string p in paths)
        {
            if (Directory.Exists(p))
                result.AddRange(Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Where(IsImage).OrderBy(f => f, StringComparer.Ordinal));
            else
                result.Add(p);
        }
        return result;
    }

    /// <summary>The images of a folder of good images, recursively, sorted; refuses a missing folder or one without images.</summary>
    public static List<string> TrainingFolder(string dir, string what = "training folder")
    {
        if (!Directory.Exists(dir)) throw new PatchCoreException($"{dir}: {what} not found.");
        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(IsImage).OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new PatchCoreException($"{dir}: no images found (looked for {string.Join(", ", Extensions)}).");
        return files;
    }
}
