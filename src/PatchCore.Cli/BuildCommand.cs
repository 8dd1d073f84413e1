using System.CommandLine;
using System.Globalization;
using PatchCore.Core;

namespace PatchCore.Cli;

internal static class BuildCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var train = new Option<DirectoryInfo>("--train") { Description = "Folder of good images (searched recursively).", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "The bank file to write.", Required = true };
        var cmd = new Command("build", "Build a memory bank from a folder of good images. " + ExitCodes.HelpText) { train, output };
        common.AddTo(cmd);
        cmd.SetAction((r, ct) => Task.FromResult(Program.Guard(() =>
        {
            var images = ImagePaths.TrainingFolder(r.GetValue(train)!.FullName);
            var (options, choice) = common.ToBuildOptions(r, images, r.GetValue(output)!.FullName).ResolveGeometry();
            options.Validate();
            if (choice is not null) ConsoleUi.Info(choice.ToString());
            ConsoleUi.Info($"Building a bank from {images.Count} images in {r.GetValue(train)!.FullName} ({options.Model.Backbone}, {options.Model.Geometry}, coreset {(options.CoresetCount is int c ? c.ToString() : options.CoresetFraction.ToString("0.###"))}, index {options.IndexFactory}).");
            var summary = ConsoleUi.WithProgress(["features", "coreset", "index", "calibration"], progress =>
                PatchCoreBankBuilder.Build(options, new SyncProgress<BuildProgress>(p => progress.Report((p.Phase, p.Done, p.Total))), ct));
            ConsoleUi.Info($"""
                Bank written: {summary.BankPath}
                  id {summary.BankId}
                  images: {summary.BankImages} in the bank, {summary.HeldOutImages} held out for calibration
                  patches: {summary.Candidates:N0} candidates -> {summary.BankVectors:N0} bank vectors of {summary.Dimension} dimensions, index {summary.IndexFactory}
                  thresholds: {Thresholds(summary)}
                  image score: {ImageScore(summary)}
                  seconds: features {summary.FeatureTime.TotalSeconds:0.0}, coreset {summary.CoresetTime.TotalSeconds:0.0}, index {summary.IndexTime.TotalSeconds:0.0}, calibration {summary.CalibrationTime.TotalSeconds:0.0}
                """);
            return ExitCodes.Ok;
        })));
        return cmd;
    }

    private static string ImageScore(BuildSummary s)
    {
        string rule = s.ImageScore == Core.Scoring.ImageScoreRule.Position
            ? "by position (standard deviations above the held-out good maps at the same place)"
            : "max (the highest patch distance)";
        return s.ImageScoreChoice is { } why ? $"{rule}, chosen by --image-score auto: {why}" : rule;
    }

    private static string Thresholds(BuildSummary s) => s.Threshold is double ng
        ? string.Create(CultureInfo.InvariantCulture, $"ng {ng:0.####}, review {s.ReviewThreshold:0.####}, pixel {s.PixelThreshold:0.####} (from the held-out good images)")
        : "none (no images held out)";
}
