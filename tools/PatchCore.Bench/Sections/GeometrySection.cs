using System.Diagnostics;
using PatchCore.Core;
using PatchCore.Core.Embedding;
using PatchCore.Core.Imaging;

namespace PatchCore.Bench.Sections;

/// <summary>
/// 7. What a geometry costs: for the default (resize 256, crop 224), <c>--geometry auto</c> (chosen from the
/// category's training images) and tiles of 224 at native size, a bank from the same few training images
/// (<see cref="PatchCoreBankBuilder.Fit"/>, coreset 0.1) and the same test images scored through the one scoring path
/// (<see cref="PatchCoreDetector.ScoreFiles"/>, exact search), one image at a time.
/// </summary>
internal sealed class GeometrySection : IBenchSection
{
    private const int TrainImages = 16;
    private const int TestImages = 8;

    public string Name => "geometry";
    public string Title => "Cost of a geometry: patches, bank and scoring time per image (default, auto, tiles)";
    public bool NeedsData => true;

    public void Run(BenchContext context)
    {
        var train = context.TrainImages.Take(TrainImages).ToArray();
        var test = context.TestImages.Select(t => t.ImagePath).Take(TestImages).ToArray();
        var auto = AutoGeometry.Choose(context.TrainImages);
        var geometries = new (string Label, ImageGeometry Geometry)[]
        {
            ("default", ImageGeometry.Default),
            ("auto", auto.Geometry),
            ("tile 224", ImageGeometry.Parse("native", "none", "224")),
        };
        var rows = new List<string[]>();
        foreach (var (label, geometry) in geometries)
        {
            Report.Progress($"geometry {label} ({geometry}): bank from {train.Length} images, {test.Length} test images");
            var options = new BuildOptions(train, "(bench)") { Model = new ModelOptions { Geometry = geometry }, CoresetFraction = BenchSettings.CoresetFraction, HoldOutFraction = 0 };
            var pipeline = new FeaturePipeline(options.Model);
            FittedBank fitted;
            PatchCoreDetector detector;
            try
            {
                fitted = PatchCoreBankBuilder.Fit(pipeline, train, options);
                detector = PatchCoreDetector.FromFitted(pipeline, ownsPipeline: true, fitted, new Core.MemoryBank.Calibration(), new DetectorOptions());
            }
            catch
            {
                pipeline.Dispose();
                throw;
            }
            using var _ = detector;
            var embed = new List<double>();
            var search = new List<double>();
            var total = new List<double>();
            int patches = 0, inputs = 0;
            string size = "";
            // the first image warms up: its figures are dropped
            foreach (string path in test.Prepend(test[0]).ToArray())
            {
                var sw = Stopwatch.StartNew();
                using var file = detector.ScoreFiles([path]).Single();
                double seconds = sw.Elapsed.TotalSeconds;
                if (!file.Succeeded) throw new PatchCoreException($"{path}: {file.Reason}");
                var d = file.Detection!;
                patches = d.PatchScores.Length;
                inputs = d.PatchScores.Length / (d.GridWidth * d.GridHeight);
                size = $"{d.Map.Width}x{d.Map.Height}";
                embed.Add(file.Timings.Embedding.TotalMilliseconds);
                search.Add(file.Timings.Search.TotalMilliseconds);
                total.Add(seconds * 1000);
            }
            static double Median(List<double> v) => Samples.Median(v.Skip(1).ToArray());
            rows.Add(
            [
                label,
                geometry.ToString(),
                size,
                inputs.ToString(),
                Report.N(patches),
                Report.N(fitted.Candidates),
                Report.N(fitted.VectorCount),
                Report.F(fitted.FeatureTime.TotalSeconds, 1),
                Report.F(fitted.CoresetTime.TotalSeconds, 1),
                Report.F(Median(embed), 0),
                Report.F(Median(search), 0),
                Report.F(Median(total), 0),
            ]);
        }
        Report.Table(["geometry", "as given", "input (last test image)", "backbone inputs/image", "patches/image", "candidates", "bank", "features s", "coreset s", "backbone+embed ms", "search ms", "total ms/image"], rows);
        Report.Line($"auto: {auto}");
        Report.Line($"Bank from the first {train.Length} training images (coreset {BenchSettings.CoresetFraction}), {test.Length} test images scored one at a time after one warm-up; medians. Search time grows with patches/image x bank size.");
    }
}
