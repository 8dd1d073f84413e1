using System.CommandLine;
using System.Globalization;
using PatchCore.Core;
using PatchCore.Core.Devices;
using PatchCore.Core.Embedding;
using PatchCore.Core.Imaging;

namespace PatchCore.Cli;

internal static class UpdateCommand
{
    public static Command Create()
    {
        var bank = new Option<string>("--bank") { Description = "The bank to update: a bank file, a version file or a NAME.current pointer (never modified).", Required = true };
        var add = new Option<DirectoryInfo>("--add") { Description = "Folder of new good images (searched recursively).", Required = true };
        var output = new Option<FileInfo?>("--out") { Description = "The new bank file (not the old one)." };
        var version = new Option<bool>("--version") { Description = "Write the next version NAME.v{N+1}.pcbank beside the bank and make it current (NAME.current); a plain NAME.pcbank becomes v1 first." };
        var coreset = new Option<string?>("--coreset") { Description = "Vectors to add: a count (e.g. 500) or a share of the new patches (e.g. 0.1). Default: while a new patch lies farther than the bank's stored coverage radius." };
        var holdOut = new Option<double>("--holdout") { Description = "Share of the new images kept out of the bank to calibrate the thresholds (at least 1 of 2 or more).", DefaultValueFactory = _ => 0.1 };
        var seed = new Option<int?>("--seed") { Description = "Check: the bank's coreset seed (an update continues in the bank's own projection)." };
        var backbone = new Option<string?>("--backbone") { Description = "Check: the bank's backbone." };
        var weights = new Option<FileInfo?>("--weights") { Description = "The checkpoint the bank was built with, if not the packaged ResNet18 (its sha256 must match)." };
        var resize = new Option<string?>("--resize") { Description = "Check: the bank's resize (as given to build; with --crop, build's defaults fill the other)." };
        var crop = new Option<string?>("--crop") { Description = "Check: the bank's crop." };
        var embedding = new Option<string?>("--embedding") { Description = "Check: the bank's embedding (paper or concat)." };
        var roi = new Option<FileInfo?>("--roi") { Description = "Check: the bank's region-of-interest mask (the bank's own mask is always used)." };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => "auto" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Images per backbone batch (default: sized from free memory)." };
        var cmd = new Command("update", "Add new good images to a bank without a rebuild: the bank's coreset is extended greedily and the thresholds are recalibrated from good images. " + ExitCodes.HelpText)
        {
            bank, add, output, version, coreset, holdOut, seed, backbone, weights, resize, crop, embedding, roi, device, batchSize,
        };
        cmd.SetAction((r, ct) => Task.FromResult(Program.Guard(() =>
        {
            string bankPath = r.GetValue(bank)!;
            bool next = r.GetValue(version);
            string? outPath = r.GetValue(output)?.FullName;
            if (next == (outPath is not null))
                throw new PatchCoreException("Give either --out FILE (a new bank file) or --version (the next version of the bank, made current), not both.");
            string dir = r.GetValue(add)!.FullName;
            var images = ImagePaths.TrainingFolder(dir, "folder of new good images (--add)");
            var (fraction, count) = r.GetValue(coreset) is string text ? CommonOptions.ParseCoreset(text) : (0, null);
            string? resizeText = r.GetValue(resize), cropText = r.GetValue(crop), embeddingText = r.GetValue(embedding);
            var options = new UpdateOptions(bankPath, images, outPath)
            {
                CoresetCount = count,
                CoresetFraction = count is null && fraction > 0 ? fraction : null,
                HoldOutFraction = r.GetValue(holdOut),
                Seed = r.GetValue(seed),
                Backbone = r.GetValue(backbone),
                WeightsPath = r.GetValue(weights)?.FullName,
                Geometry = resizeText is null && cropText is null ? null : ImageGeometry.Parse(resizeText ?? "256", cropText ?? "224"),
                Embedding = embeddingText is null ? null : new EmbeddingOptions { Mode = CommonOptions.ParseEmbedding(embeddingText) },
                Roi = r.GetValue(roi) is { } mask ? RegionOfInterest.Load(mask.FullName) : null,
                Device = ComputeDevice.Parse(r.GetValue(device)!),
                BatchSize = r.GetValue(batchSize),
            };
            options.Validate();
            ConsoleUi.Info($"Updating {bankPath} with {images.Count} images from {dir}.");
            var summary = ConsoleUi.WithProgress(["features", "coreset", "index", "calibration"], progress =>
                PatchCoreBankUpdater.Update(options, new SyncProgress<BuildProgress>(p => progress.Report((p.Phase, p.Done, p.Total))), ct));
            ConsoleUi.Info(Describe(summary));
            return ExitCodes.Ok;
        })));
        return cmd;
    }

    internal static string Describe(UpdateSummary s)
    {
        var text = new System.Text.StringBuilder();
        string where = s.Version is int v ? $" (version v{v}, now current)" : "";
        text.AppendLine(Invariant($"Bank written: {s.BankPath}{where}"));
        text.AppendLine(Invariant($"  id {s.BankId}, parent {s.ParentId} ({s.ParentPath}, unchanged)"));
        text.AppendLine(Invariant($"  images: {s.BankImages} added to the bank, {s.HeldOutImages} held out for calibration"));
        text.AppendLine(Invariant($"  patches: {s.Candidates:N0} new candidates -> {s.VectorsAdded:N0} vectors added by {s.Rule}; bank {s.VectorsBefore:N0} -> {s.VectorsAfter:N0} vectors of {s.Dimension} dimensions"));
        string radius = s.CoverageRadius is double c ? Invariant($"; coverage radius {c:0.####}") : "; no coverage radius (the parent stored none)";
        text.AppendLine(Invariant($"  coverage: the farthest new patch now lies {s.LargestRemaining:0.####} from the bank (coreset projection){radius}"));
        text.AppendLine("  thresholds (old -> new, from good images only):");
        text.AppendLine($"    ng      {Change(s.OldThresholds.Ng, s.NewThresholds.Ng)}");
        text.AppendLine($"    review  {Change(s.OldThresholds.Review, s.NewThresholds.Review)}");
        text.AppendLine($"    pixel   {Change(s.OldThresholds.Pixel, s.NewThresholds.Pixel)}");
        text.AppendLine(Invariant($"  calibration: {s.HeldOutScored} held-out images scored against the new bank"));
        if (s.CarriedOver.Count > 0)
        {
            text.AppendLine(Invariant($"  {s.CarriedOver.Count} held-out image(s) of the parent could not be scored again; their old scores are kept (scores only fall with a larger bank, so they stay a conservative bound):"));
            foreach (string carried in s.CarriedOver) text.AppendLine($"    {carried}");
        }
        text.Append(Invariant($"  seconds: features {s.FeatureTime.TotalSeconds:0.0}, coreset {s.CoresetTime.TotalSeconds:0.0}, index {s.IndexTime.TotalSeconds:0.0}, calibration {s.CalibrationTime.TotalSeconds:0.0}"));
        return text.ToString();
    }

    private static string Change(double? before, double? after) => (before, after) switch
    {
        (double b, double a) => Invariant($"{b:0.####} -> {a:0.####} ({(b == 0 ? "n/a" : ((a - b) / b).ToString("+0.0%;-0.0%;0.0%", CultureInfo.InvariantCulture))})"),
        (null, double a) => Invariant($"none -> {a:0.####}"),
        (double b, null) => Invariant($"{b:0.####} -> none"),
        _ => "none",
    };

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
