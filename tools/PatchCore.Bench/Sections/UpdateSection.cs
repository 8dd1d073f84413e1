using System.Diagnostics;
using PatchCore.Core;
using PatchCore.Core.Evaluation;
using PatchCore.Core.MemoryBank;

namespace PatchCore.Bench.Sections;

/// <summary>What an update child is asked to do: build a bank from the training images whose index i has i % 4 in
/// <paramref name="Residues"/>, or update <paramref name="ParentPath"/> with them (by the coverage rule, or by
/// <paramref name="Count"/>).</summary>
internal sealed record UpdateTask(string CategoryDir, int[] Residues, string BankPath, string? ParentPath, int? Count);

/// <summary>What an update child measured.</summary>
internal sealed record UpdateResult(int Images, long Candidates, long BankVectors, long VectorsAdded, double FeatureSeconds, double CoresetSeconds,
    double IndexSeconds, double TotalSeconds, long PeakRssBytes, double? CoverageRadius, string Rule);

/// <summary>
/// 6. Bank update against rebuild (<see cref="PatchCoreBankUpdater"/>): a bank from every 4th training image, updated
/// with the next quarter (index 4k+1) by the coverage rule and, for a like-for-like size, by the count that brings it
/// to the rebuild's size; against a bank rebuilt from both quarters. Each build or update runs in its own child process
/// (peak RSS its own; the seconds include loading the backbone); every bank is then scored on the whole test split
/// through the library (<see cref="CategoryEvaluator.RunOnBank"/>). Every image is in its bank (no hold-out), so
/// the banks saw the same images and no calibration time is counted.
/// </summary>
internal sealed class UpdateSection : IBenchSection
{
    public const string ChildKind = "update";

    public string Name => "update";
    public string Title => "Bank update (a quarter of the training images + the next quarter) against a rebuild from both";
    public bool NeedsData => true;

    public void Run(BenchContext context)
    {
        string dir = Directory.CreateTempSubdirectory("pc-bench-update-").FullName;
        try
        {
            string category = context.Settings.CategoryDir;
            string quarter = Path.Combine(dir, "quarter.pcbank"), updated = Path.Combine(dir, "updated.pcbank");
            string sized = Path.Combine(dir, "updated-to-size.pcbank"), rebuilt = Path.Combine(dir, "rebuilt.pcbank");
            Report.Progress("child: bank from every 4th training image");
            var q = ChildProcess.Run<UpdateTask, UpdateResult>(ChildKind, new UpdateTask(category, [0], quarter, null, null));
            Report.Progress("child: update with the next quarter (coverage rule)");
            var u = ChildProcess.Run<UpdateTask, UpdateResult>(ChildKind, new UpdateTask(category, [1], updated, quarter, null));
            Report.Progress("child: rebuild from both quarters");
            var r = ChildProcess.Run<UpdateTask, UpdateResult>(ChildKind, new UpdateTask(category, [0, 1], rebuilt, null, null));
            int toSize = (int)Math.Max(1, r.BankVectors - q.BankVectors);
            Report.Progress($"child: update with the next quarter, {toSize} vectors (the rebuild's size)");
            var s = ChildProcess.Run<UpdateTask, UpdateResult>(ChildKind, new UpdateTask(category, [1], sized, quarter, toSize));

            var rows = new List<string[]>();
            foreach (var (name, path, result) in new[]
                     {
                         ("bank from a quarter (build)", quarter, q),
                         ("+ next quarter: update (coverage rule)", updated, u),
                         ("+ next quarter: update to the rebuild's size", sized, s),
                         ("both quarters: rebuild", rebuilt, r),
                     })
            {
                Report.Progress($"scoring the test split against: {name}");
                var e = CategoryEvaluator.RunOnBank(category, path);
                rows.Add(
                [
                    name,
                    result.Images.ToString(),
                    Report.N(result.BankVectors),
                    Report.N(result.VectorsAdded),
                    Report.MiB(new FileInfo(path).Length),
                    Report.F(e.ImageAuroc, 4),
                    e.PixelAuroc is double p ? Report.F(p, 4) : "n/a",
                    Report.F(result.FeatureSeconds, 1),
                    Report.F(result.CoresetSeconds, 1),
                    Report.F(result.IndexSeconds, 2),
                    Report.F(result.TotalSeconds, 1),
                    Report.MiB(result.PeakRssBytes),
                    result.CoverageRadius is double c ? Report.F(c, 3) : "none",
                ]);
            }
            Report.Table(["bank", "images", "vectors", "added", "file MiB", "image AUROC", "pixel AUROC", "features s", "coreset s", "index s", "total s", "peak RSS MiB", "radius"], rows);
            Report.Line($"{BenchSettings.Geometry}; coreset fraction {BenchSettings.CoresetFraction}, seed {BenchSettings.Seed}; no hold-out; {u.Rule} for the update.");
            Report.Line($"Update against rebuild: time {u.TotalSeconds / r.TotalSeconds:P0} of the rebuild's ({Report.F(u.TotalSeconds, 1)} s vs {Report.F(r.TotalSeconds, 1)} s), " +
                        $"size {(double)u.BankVectors / r.BankVectors:P0}, peak RSS {Report.MiB(u.PeakRssBytes)} vs {Report.MiB(r.PeakRssBytes)} MiB.");
            Report.Line("total s is the child's wall time from start to the bank file written, backbone loading included; features s embeds only the new images for an update. " +
                        "AUROCs score every test image through the library's one scoring path (exact projected search).");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>In the child process: one build or one update.</summary>
    public static UpdateResult RunChild(UpdateTask task)
    {
        var category = MvtecCategory.Load(task.CategoryDir);
        var images = category.TrainGood.Where((_, i) => task.Residues.Contains(i % 4)).ToArray();
        var sw = Stopwatch.StartNew();
        string? lastPhase = null;
        var progress = new SyncProgress<BuildProgress>(p =>
        {
            if (p.Phase == lastPhase) return;
            lastPhase = p.Phase;
            Report.Progress($"  {Path.GetFileName(task.BankPath)}: {p.Phase}");
        });
        if (task.ParentPath is null)
        {
            var b = PatchCoreBankBuilder.Build(new BuildOptions(images, task.BankPath)
            {
                Model = BenchSettings.Model(),
                CoresetFraction = BenchSettings.CoresetFraction,
                Seed = BenchSettings.Seed,
                HoldOutFraction = 0,
            }, progress);
            double total = sw.Elapsed.TotalSeconds;
            return new UpdateResult(images.Length, b.Candidates, b.BankVectors, b.BankVectors, b.FeatureTime.TotalSeconds, b.CoresetTime.TotalSeconds,
                b.IndexTime.TotalSeconds, total, ProcessMemory.PeakRssBytes, MemoryBankFile.Read(task.BankPath).Metadata.Coreset.CoverageRadius, "build");
        }
        var u = PatchCoreBankUpdater.Update(new UpdateOptions(task.ParentPath, images, task.BankPath) { HoldOutFraction = 0, CoresetCount = task.Count }, progress);
        double seconds = sw.Elapsed.TotalSeconds;
        return new UpdateResult(images.Length, u.Candidates, u.VectorsAfter, u.VectorsAdded, u.FeatureTime.TotalSeconds, u.CoresetTime.TotalSeconds,
            u.IndexTime.TotalSeconds, seconds, ProcessMemory.PeakRssBytes, u.CoverageRadius, u.Rule);
    }
}
