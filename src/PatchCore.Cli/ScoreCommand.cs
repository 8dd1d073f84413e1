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
        var heatmaps = new Option<DirectoryInfo?>("--heatmaps") { Description = "Write a heatmap overlay PNG per image into this folder." };
        var threshold = new Option<double?>("--threshold") { Description = "Override the bank's threshold." };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => "auto" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Images per batch (default: sized from free memory)." };
        var weights = new Option<FileInfo?>("--weights") { Description = "The checkpoint the bank was built with, if not the packaged ResNet18." };
        var search = new Option<string>("--search") { Description = SearchBackends.Help, DefaultValueFactory = _ => "auto" };
        var k = new Option<int>("--k") { Description = "Neighbours per patch (patch score = mean distance).", DefaultValueFactory = _ => 1 };
        var reweight = new Option<bool>("--reweight") { Description = "Apply the paper's Eq. 7 image-score reweighting (b = 9)." };
        var cmd = new Command("score", "Score images with a bank. " + ExitCodes.HelpText) { bank, paths, json, heatmaps, threshold, device, batchSize, weights, search, k, reweight };
        cmd.SetAction((r, ct) => Task.FromResult(Program.Guard(() =>
        {
            var options = new DetectorOptions(ComputeDevice.Parse(r.GetValue(device)!), r.GetValue(batchSize))
            {
                WeightsPath = r.GetValue(weights)?.FullName,
                Search = SearchBackends.Parse(r.GetValue(search)!),
                Scoring = new ScoringOptions { NeighbourCount = r.GetValue(k), Reweight = r.GetValue(reweight) },
            };
            using var detector = PatchCoreDetector.Load(r.GetValue(bank)!.FullName, options);
            double? t = r.GetValue(threshold) ?? detector.Threshold;
            bool asJson = r.GetValue(json);
            string? heatmapDir = r.GetValue(heatmaps)?.FullName;
            if (heatmapDir is not null) Directory.CreateDirectory(heatmapDir);
            var files = ImagePaths.Expand(r.GetValue(paths)!);
            if (files.Count == 0) throw new PatchCoreException("No images found in the given paths.");
            var usedNames = new HashSet<string>(StringComparer.Ordinal);
            int failed = 0;
            if (!asJson) ConsoleUi.Info($"Scoring {files.Count} images with {r.GetValue(bank)!.FullName} (threshold {(t is double tv ? tv.ToString("0.####", CultureInfo.InvariantCulture) : "none")}).");

            foreach (var file in detector.ScoreFiles(files, keepOriginals: heatmapDir is not null, ct))
            {
                using (file)
                {
                    if (!file.Succeeded)
                    {
                        failed++;
                        Emit(asJson, file.Path, null, t, null, file.Reason);
                        continue;
                    }
                    string? heatmap = null;
                    if (heatmapDir is not null)
                    {
                        heatmap = UniqueName(heatmapDir, Path.GetFileNameWithoutExtension(file.Path) + "_heatmap", ".png", usedNames);
                        detector.WriteHeatmap(file, heatmap, t);
                    }
                    Emit(asJson, file.Path, file.Detection.Score, t, heatmap, null);
                }
            }
            if (!asJson) ConsoleUi.Info($"{files.Count - failed} scored, {failed} failed.");
            return failed > 0 ? ExitCodes.SomeImagesFailed : ExitCodes.Ok;
        })));
        return cmd;
    }

    private static void Emit(bool asJson, string path, double? score, double? threshold, string? heatmap, string? error)
    {
        if (asJson)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("path", path);
                if (error is not null)
                {
                    writer.WriteString("error", error);
                }
                else
                {
                    writer.WriteNumber("score", Math.Round(score!.Value, 6));
                    if (threshold is double t) writer.WriteBoolean("anomalous", score >= t); else writer.WriteNull("anomalous");
                    if (heatmap is not null) writer.WriteString("heatmap", heatmap); else writer.WriteNull("heatmap");
                }
                writer.WriteEndObject();
            }
            Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
            return;
        }
        if (error is not null)
        {
            ConsoleUi.Error($"{path}: {error}");
            return;
        }
        string verdict = threshold is double th ? (score >= th ? "ANOMALOUS" : "ok") : "-";
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{score,10:0.0000}  {verdict,-9}  {path}{(heatmap is null ? "" : "  -> " + heatmap)}"));
    }

    /// <summary>A heatmap name not used before in this run (two inputs may share a file name in different folders).</summary>
    private static string UniqueName(string dir, string stem, string ext, HashSet<string> used)
    {
        string name = stem + ext;
        for (int n = 2; !used.Add(name); n++) name = $"{stem}_{n}{ext}";
        return Path.Combine(dir, name);
    }
}
