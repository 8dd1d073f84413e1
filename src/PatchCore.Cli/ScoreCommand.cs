using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PatchCore.Core;
using PatchCore.Core.Devices;
using PatchCore.Core.Scoring;
using PatchCore.Core.Search;

namespace PatchCore.Cli;

internal static class ScoreCommand
{
    public static Command Create()
    {
        var bank = new Option<FileInfo>("--bank") { Description = "The bank file made by build.", Required = true };
        var paths = new Argument<string[]>("PATH") { Description = "Image files and folders (searched recursively).", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "One JSON object per image on stdout; logs go to stderr." };
        var heatmaps = new Option<DirectoryInfo?>("--heatmaps") { Description = "Write a heatmap overlay PNG per image into this folder (regions boxed, the bank's colour scale)." };
        var masks = new Option<DirectoryInfo?>("--masks") { Description = "Write a binary defect mask PNG per image into this folder (white = in a region)." };
        var threshold = new Option<double?>("--threshold") { Description = "Override the bank's ng threshold on image scores." };
        var review = new Option<string?>("--review-threshold") { Description = "Override the bank's review threshold, or 'off' for no review band (ok or ng only)." };
        var pixel = new Option<double?>("--pixel-threshold") { Description = "Override the bank's pixel threshold (anomaly-map value where defect regions start)." };
        var minArea = new Option<long?>("--min-region-area") { Description = "Drop regions smaller than this many original pixels (default: one 8x8 cell of the model input)." };
        var mmPerPixel = new Option<double?>("--mm-per-pixel") { Description = "Millimetres per original pixel: regions also get their box and area in mm." };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => "auto" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Images per batch (default: sized from free memory)." };
        var weights = new Option<FileInfo?>("--weights") { Description = "The checkpoint the bank was built with, if not the packaged ResNet18." };
        var search = new Option<string>("--search") { Description = SearchBackends.Help, DefaultValueFactory = _ => "auto" };
        var k = new Option<int>("--k") { Description = "Neighbours per patch (patch score = mean distance).", DefaultValueFactory = _ => 1 };
        var reweight = new Option<bool>("--reweight") { Description = "Apply the paper's Eq. 7 image-score reweighting (b = 9)." };
        var cmd = new Command("score", "Score images with a bank. " + ExitCodes.HelpText)
        {
            bank, paths, json, heatmaps, masks, threshold, review, pixel, minArea, mmPerPixel, device, batchSize, weights, search, k, reweight,
        };
        cmd.SetAction((r, ct) => Task.FromResult(Program.Guard(() =>
        {
            var (reviewThreshold, reviewBand) = ParseReview(r.GetValue(review));
            var options = new DetectorOptions(ComputeDevice.Parse(r.GetValue(device)!), r.GetValue(batchSize))
            {
                WeightsPath = r.GetValue(weights)?.FullName,
                Search = SearchBackends.Parse(r.GetValue(search)!),
                Scoring = new ScoringOptions { NeighbourCount = r.GetValue(k), Reweight = r.GetValue(reweight) },
                Thresholds = new Thresholds { Ng = r.GetValue(threshold), Review = reviewThreshold, Pixel = r.GetValue(pixel) },
                ReviewBand = reviewBand,
                Regions = new RegionOptions { MinArea = r.GetValue(minArea), MmPerPixel = r.GetValue(mmPerPixel) },
            };
            using var detector = PatchCoreDetector.Load(r.GetValue(bank)!.FullName, options);
            var t = detector.Thresholds;
            bool asJson = r.GetValue(json);
            string? heatmapDir = r.GetValue(heatmaps)?.FullName, maskDir = r.GetValue(masks)?.FullName;
            if (heatmapDir is not null) Directory.CreateDirectory(heatmapDir);
            if (maskDir is not null) Directory.CreateDirectory(maskDir);
            var files = ImagePaths.Expand(r.GetValue(paths)!);
            if (files.Count == 0) throw new PatchCoreException("No images found in the given paths.");
            var usedNames = new HashSet<string>(StringComparer.Ordinal);
            int failed = 0;
            if (!asJson) ConsoleUi.Info($"Scoring {files.Count} images with {r.GetValue(bank)!.FullName} (thresholds: {Describe(t)}).");

            foreach (var file in detector.ScoreFiles(files, keepOriginals: heatmapDir is not null || maskDir is not null, ct))
            {
                using (file)
                {
                    if (!file.Succeeded)
                    {
                        failed++;
                        EmitError(asJson, file.Path, file.Reason);
                        continue;
                    }
                    string stem = UniqueStem(Path.GetFileNameWithoutExtension(file.Path), usedNames);
                    string? heatmap = heatmapDir is null ? null : Path.Combine(heatmapDir, stem + "_heatmap.png");
                    string? mask = maskDir is null ? null : Path.Combine(maskDir, stem + "_mask.png");
                    if (heatmap is not null) detector.WriteHeatmap(file, heatmap);
                    if (mask is not null) detector.WriteDefectMask(file, mask);
                    Emit(asJson, file, t, heatmap, mask);
                }
            }
            if (!asJson) ConsoleUi.Info($"{files.Count - failed} scored, {failed} failed.");
            return failed > 0 ? ExitCodes.SomeImagesFailed : ExitCodes.Ok;
        })));
        return cmd;
    }

    /// <summary>--review-threshold: a number, 'off', or absent (the bank's).</summary>
    private static (double? Threshold, bool Band) ParseReview(string? text)
    {
        if (text is null) return (null, true);
        if (text.Trim().Equals("off", StringComparison.OrdinalIgnoreCase)) return (null, false);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return (value, true);
        throw new PatchCoreException($"Invalid --review-threshold '{text}': expected a number or 'off'.");
    }

    private static string Describe(Thresholds t) => string.Create(CultureInfo.InvariantCulture,
        $"ng {F(t.Ng)}, review {F(t.Review)}, pixel {F(t.Pixel)}");

    private static string F(double? v) => v is double d ? d.ToString("0.####", CultureInfo.InvariantCulture) : "none";

    private static void Emit(bool asJson, ScoredFile file, Thresholds t, string? heatmap, string? mask)
    {
        double score = file.Detection!.Score;
        string? verdict = file.Verdict is { } v ? Verdicts.Name(v) : null;
        if (!asJson)
        {
            int regions = file.Regions?.Count ?? 0;
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{score,10:0.0000}  {verdict ?? "-",-6}  {regions,2} region{(regions == 1 ? " " : "s")}  {file.Path}{(heatmap is null ? "" : "  -> " + heatmap)}"));
            return;
        }
        WriteJsonLine(w =>
        {
            w.WriteString("path", file.Path);
            w.WriteNumber("score", Math.Round(score, 6));
            if (t.Ng is double ng) w.WriteBoolean("anomalous", score >= ng); else w.WriteNull("anomalous");
            if (verdict is not null) w.WriteString("verdict", verdict); else w.WriteNull("verdict");
            if (file.Regions is { } regions)
            {
                w.WriteStartArray("regions");
                foreach (var region in regions) WriteRegion(w, region);
                w.WriteEndArray();
            }
            else
            {
                w.WriteNull("regions");
            }
            if (heatmap is not null) w.WriteString("heatmap", heatmap); else w.WriteNull("heatmap");
            if (mask is not null) w.WriteString("mask", mask);
        });
    }

    private static void WriteRegion(Utf8JsonWriter w, DefectRegion region)
    {
        w.WriteStartObject();
        w.WriteNumber("x", region.X);
        w.WriteNumber("y", region.Y);
        w.WriteNumber("width", region.Width);
        w.WriteNumber("height", region.Height);
        w.WriteNumber("area", region.Area);
        w.WriteNumber("peak", Math.Round(region.Peak, 6));
        w.WriteNumber("peakX", region.PeakX);
        w.WriteNumber("peakY", region.PeakY);
        w.WriteNumber("mean", Math.Round(region.Mean, 6));
        if (region.AreaMm2 is double area)
        {
            w.WriteNumber("xMm", Math.Round(region.XMm!.Value, 4));
            w.WriteNumber("yMm", Math.Round(region.YMm!.Value, 4));
            w.WriteNumber("widthMm", Math.Round(region.WidthMm!.Value, 4));
            w.WriteNumber("heightMm", Math.Round(region.HeightMm!.Value, 4));
            w.WriteNumber("areaMm2", Math.Round(area, 4));
        }
        w.WriteEndObject();
    }

    private static void EmitError(bool asJson, string path, string reason)
    {
        if (!asJson)
        {
            ConsoleUi.Error($"{path}: {reason}");
            return;
        }
        WriteJsonLine(w =>
        {
            w.WriteString("path", path);
            w.WriteString("error", reason);
        });
    }

    private static void WriteJsonLine(Action<Utf8JsonWriter> body)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    /// <summary>A file stem not used before in this run (two inputs may share a file name in different folders).</summary>
    private static string UniqueStem(string stem, HashSet<string> used)
    {
        string name = stem;
        for (int n = 2; !used.Add(name); n++) name = $"{stem}_{n}";
        return name;
    }
}
