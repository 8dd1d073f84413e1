using System.Diagnostics;
using PatchCore.Core;
using PatchCore.Core.Evaluation;
using PatchCore.Core.Embedding;

namespace PatchCore.Bench.Sections;

/// <summary>What a build child is asked to do.</summary>
internal sealed record BuildTask(string CategoryDir, int TrainStride, string IndexFactory);

/// <summary>What a build child measured.</summary>
internal sealed record BuildResult(int Images, long Candidates, long BankVectors, int BatchSize,
    double FeatureSeconds, double CoresetSeconds, double IndexSeconds, double TotalSeconds, long PeakRssBytes, long RssBytes);

/// <summary>
/// 2. Bank build on the category's training images: <see cref="PatchCoreBankBuilder.Fit"/> (features, coreset 10 %,
/// seed 0, index), once with Flat and once with the approximate index, each in its own child process so that the
/// peak RSS (VmHWM) is that build's alone. The batch size is the library's default (sized from free memory).
/// </summary>
internal sealed class BuildSection : IBenchSection
{
    public const string ChildKind = "build";

    public string Name => "build";
    public string Title => "Bank build (features, coreset 0.1, index), each build in its own process";
    public bool NeedsData => true;

    public void Run(BenchContext context)
    {
        int images = context.TrainImages.Count;
        // The bank size is known before the build: every 224x224 input gives a 28x28 layer2 grid (stride 8).
        int patchesPerImage = (BenchSettings.Geometry.Crop!.Value / 8) * (BenchSettings.Geometry.Crop!.Value / 8);
        var approx = ApproximateIndex.ForBankSize(BenchSettings.Coreset.ResolveCount((long)images * patchesPerImage));
        var rows = new List<string[]>();
        foreach (string factory in new[] { "Flat", approx.Factory })
        {
            Report.Progress($"child build with {factory} on {images} images");
            var r = ChildProcess.Run<BuildTask, BuildResult>(ChildKind, new BuildTask(context.Settings.CategoryDir, context.Settings.TrainStride, factory));
            rows.Add(
            [
                factory,
                r.Images.ToString(),
                Report.N(r.Candidates),
                Report.N(r.BankVectors),
                r.BatchSize.ToString(),
                Report.F(r.FeatureSeconds, 1),
                Report.F(r.CoresetSeconds, 1),
                Report.F(r.IndexSeconds, 2),
                Report.F(r.TotalSeconds, 1),
                Report.MiB(r.PeakRssBytes),
                Report.MiB(r.RssBytes),
            ]);
        }
        Report.Table(["index", "images", "candidates", "bank", "batch", "features s", "coreset s", "index s", "total s", "peak RSS MiB", "RSS at end MiB"], rows);
        Report.Line($"{BenchSettings.Geometry}; coreset fraction {BenchSettings.CoresetFraction}, seed {BenchSettings.Seed}; no hold-out (PatchCoreBankBuilder.Fit).");
        Report.Line($"total s adds loading the backbone to the three phases; index s includes training ({approx.Factory} trains its k-means on the bank vectors). Peak RSS is VmHWM of the child process: runtime, libtorch, model, candidates and bank.");
        if (context.Settings.Quick) Report.Line($"--quick: every {Report.Ordinal(context.Settings.TrainStride)} training image.");
    }

    /// <summary>In the child process: one build.</summary>
    public static BuildResult RunChild(BuildTask task)
    {
        var category = MvtecCategory.Load(task.CategoryDir);
        var images = category.TrainGood.Where((_, i) => i % task.TrainStride == 0).ToArray();
        var model = BenchSettings.Model();
        var options = new BuildOptions(images, "(in memory)")
        {
            Model = model,
            CoresetFraction = BenchSettings.CoresetFraction,
            Seed = BenchSettings.Seed,
            IndexFactory = task.IndexFactory,
            HoldOutFraction = 0,
        };
        options.Validate();
        var sw = Stopwatch.StartNew();
        using var pipeline = new FeaturePipeline(model);
        string? lastPhase = null;
        var progress = new SyncProgress<BuildProgress>(p =>
        {
            if (p.Phase == lastPhase) return;
            lastPhase = p.Phase;
            Report.Progress($"  {task.IndexFactory}: {p.Phase}");
        });
        var fitted = PatchCoreBankBuilder.Fit(pipeline, images, options, progress);
        double total = sw.Elapsed.TotalSeconds;
        return new BuildResult(images.Length, fitted.Candidates, fitted.VectorCount, pipeline.BatchSize,
            fitted.FeatureTime.TotalSeconds, fitted.CoresetTime.TotalSeconds, fitted.IndexTime.TotalSeconds, total,
            ProcessMemory.PeakRssBytes, ProcessMemory.RssBytes);
    }
}
