using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using PatchCore.Core;
using PatchCore.Core.Evaluation;
using PatchCore.Core.Scoring;
using PatchCore.Core.Search;

namespace PatchCore.Cli;

internal static class EvalCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var data = new Option<DirectoryInfo>("--data") { Description = "An MVTec-layout category folder (train/good, test/<type>, optional ground_truth/<type>).", Required = true };
        var json = new Option<FileInfo?>("--json") { Description = "Write the metrics and per-image scores as JSON." };
        var report = new Option<FileInfo?>("--report") { Description = "Write a self-contained HTML report (ROC curves, histogram, heatmaps)." };
        var stride = new Option<int>("--train-stride") { Description = "Use every n-th training image (sorted by name).", DefaultValueFactory = _ => 1 };
        var search = new Option<string>("--search") { Description = SearchBackends.Help, DefaultValueFactory = _ => "auto" };
        var saveMaps = new Option<FileInfo?>("--save-maps") { Description = "Write every test anomaly map to this NumPy .npy file (float32 [N, H, W], test order; fixed input sizes only)." };
        var cmd = new Command("eval", "Build a bank from train/good, score the test split, report image AUROC, pixel AUROC, PRO and F1. " + ExitCodes.HelpText) { data, json, report, stride, search, saveMaps };
        common.AddTo(cmd);
        cmd.SetAction((r, ct) => Task.FromResult(Program.Guard(() =>
        {
            string dir = r.GetValue(data)!.FullName;
            var options = new EvaluationOptions
            {
                Bank = common.ToBuildOptions(r, [], "(in memory)"),
                TrainStride = r.GetValue(stride),
                GallerySize = r.GetValue(report) is null ? 0 : 6,
                Search = SearchBackends.Parse(r.GetValue(search)!),
                SaveMapsPath = r.GetValue(saveMaps)?.FullName,
            };
            var result = ConsoleUi.WithProgress(["features", "coreset", "index", "scoring"], progress =>
                CategoryEvaluator.Run(dir, options, new SyncProgress<BuildProgress>(p => progress.Report((p.Phase, p.Done, p.Total))), ct));
            if (options.Bank.AutoGeometry) ConsoleUi.Info(result.Settings["geometry_auto"]);
            PrintTable(result);
            if (r.GetValue(json) is { } jsonFile) WriteJson(jsonFile.FullName, result);
            if (r.GetValue(report) is { } reportFile)
            {
                EvaluationReportWriter.Write(reportFile.FullName, result);
                ConsoleUi.Info($"Report written: {reportFile.FullName}");
            }
            return ExitCodes.Ok;
        })));
        return cmd;
    }

    private static string F(double? v) => v is double d && !double.IsNaN(d) ? d.ToString("0.0000", CultureInfo.InvariantCulture) : "-";

    private static void PrintTable(EvaluationResult r)
    {
        var table = new Table().Title($"{r.Category}: {r.TrainImages} train, {r.TestImages} test, bank {r.BankVectors:N0} x {r.Dimension}");
        table.AddColumns("image AUROC", "pixel AUROC", "PRO@0.3", "image F1-max", "pixel F1-max", "features s", "coreset s", "index s", "score s/img");
        table.AddRow(F(r.ImageAuroc), F(r.PixelAuroc), F(r.Pro), F(r.ImageF1.F1), F(r.PixelF1?.F1),
            r.Seconds.Features.ToString("0.0", CultureInfo.InvariantCulture), r.Seconds.Coreset.ToString("0.0", CultureInfo.InvariantCulture),
            r.Seconds.Index.ToString("0.00", CultureInfo.InvariantCulture), r.Seconds.ScorePerImage.ToString("0.000", CultureInfo.InvariantCulture));
        // The table is the command's result: stdout (wide enough not to truncate when redirected).
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
        AnsiConsole.Write(table);
        if (r.Thresholds is { } t && r.GoodVerdicts is { } good && r.DefectVerdicts is { } defect)
        {
            var verdicts = new Table().Title(string.Create(CultureInfo.InvariantCulture,
                $"verdicts at the thresholds calibrated on {r.HeldOutImages} held-out good images: ng {t.Ng:0.####}, review {F(t.Review)}, pixel {F(t.Pixel)}"));
            verdicts.AddColumns("test images", "ok", "review", "ng");
            foreach (var (name, c) in new[] { ("good", good), ("defect", defect) })
                verdicts.AddRow($"{name} ({c.Total})", Share(c, c.Ok), Share(c, c.Review), Share(c, c.Ng));
            AnsiConsole.Write(verdicts);
        }
        if (r.Regions is { } regions)
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"regions at the pixel threshold: {regions.HitRegions} of {regions.GroundTruthRegions} ground-truth regions hit ({F(regions.HitRate)}), {F(regions.FalseRegionsPerGoodImage)} regions per good image, {regions.RegionsOffGroundTruth} regions on defect images off the ground truth"));
    }

    private static string Share(VerdictCounts c, int n) => string.Create(CultureInfo.InvariantCulture, $"{n} ({c.Share(n):P1})");

    internal static void WriteJson(string path, EvaluationResult r)
    {
        static double? N(double? v) => v is double d && !double.IsNaN(d) ? Math.Round(d, 6) : null;
        var doc = new Dictionary<string, object?>
        {
            ["category"] = r.Category,
            ["image_auroc"] = N(r.ImageAuroc),
            ["pixel_auroc"] = N(r.PixelAuroc),
            ["pro"] = N(r.Pro),
            ["image_f1_max"] = N(r.ImageF1.F1),
            ["pixel_f1_max"] = N(r.PixelF1?.F1),
            ["n_train"] = r.TrainImages,
            ["n_held_out"] = r.HeldOutImages,
            ["thresholds"] = r.Thresholds is { } t ? new Dictionary<string, double?> { ["ng"] = N(t.Ng), ["review"] = N(t.Review), ["pixel"] = N(t.Pixel) } : null,
            ["verdicts"] = r.GoodVerdicts is { } g && r.DefectVerdicts is { } d ? new Dictionary<string, object>
            {
                ["good"] = Counts(g),
                ["defect"] = Counts(d),
            } : null,
            ["regions"] = r.Regions is { } regions ? new Dictionary<string, object?>
            {
                ["ground_truth_regions"] = regions.GroundTruthRegions,
                ["hit"] = regions.HitRegions,
                ["hit_rate"] = N(regions.HitRate),
                ["false_regions_per_good_image"] = N(regions.FalseRegionsPerGoodImage),
                ["regions_off_ground_truth"] = regions.RegionsOffGroundTruth,
            } : null,
            ["n_test"] = r.TestImages,
            ["bank_vectors"] = r.BankVectors,
            ["embedding_dim"] = r.Dimension,
            ["settings"] = r.Settings,
            ["seconds"] = new Dictionary<string, double>
            {
                ["features"] = Math.Round(r.Seconds.Features, 3),
                ["coreset"] = Math.Round(r.Seconds.Coreset, 3),
                ["index"] = Math.Round(r.Seconds.Index, 3),
                ["score_per_image"] = Math.Round(r.Seconds.ScorePerImage, 4),
            },
            ["images"] = r.Images.Select(i => new Dictionary<string, object?>
            {
                ["path"] = i.Path,
                ["label"] = i.IsAnomalous ? 1 : 0,
                ["defect_type"] = i.DefectType,
                ["score"] = Math.Round(i.Score, 6),
                ["verdict"] = i.Verdict is { } v ? Verdicts.Name(v) : null,
                ["regions"] = i.RegionCount,
            }).ToArray(),
        };
        static Dictionary<string, int> Counts(VerdictCounts c) => new() { ["ok"] = c.Ok, ["review"] = c.Review, ["ng"] = c.Ng };
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllText(path, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
    }
}
