using PatchCore.Core.Evaluation;
using PatchCore.Core.Imaging;
using PatchCore.Core.Scoring;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Core.Tests.Scoring;

/// <summary>
/// The one scoring path with images of three sizes interleaved (<see cref="MixedSizeCategory"/>, whole images:
/// resize 256, no crop): every result, score, map and mask belongs to its own input.
/// </summary>
public sealed class ScoreFilesTests(MixedSizeBankFixture fixture, ITestOutputHelper output) : IClassFixture<MixedSizeBankFixture>
{
    private readonly MixedSizeCategory _category = fixture.Category;

    [Fact]
    public void EvalAndEachImageScoredAloneAgreeAndTheDistinctImageKeepsItsScore()
    {
        var eval = CategoryEvaluator.Run(_category.Root, new EvaluationOptions
        {
            Bank = new BuildOptions([], "(in memory)") { Model = MixedSizeBankFixture.WholeImages, CoresetFraction = MixedSizeBankFixture.Coreset, HoldOutFraction = 0 },
            GallerySize = 0,
        });
        using var detector = PatchCoreDetector.Load(fixture.Bank);

        Assert.Equal(_category.Test, eval.Images.Select(i => i.Path));
        foreach (var image in eval.Images)
        {
            double alone = detector.ScoreAll([image.Path])[0].Score;
            output.WriteLine($"{Path.GetFileName(image.Path)} {_category.SizeOf[image.Path]}: eval {image.Score:0.00000}, alone {alone:0.00000}");
            Assert.Equal(alone, image.Score, alone * 1e-4);
        }
        var highest = eval.Images.MaxBy(i => i.Score)!;
        Assert.Equal(_category.Distinct, highest.Path);
        Assert.True(highest.Score > 1.2 * eval.Images.Where(i => i.Path != highest.Path).Max(i => i.Score), "the distinct image should stand out");
        // Masks were paired with their own images (a mask of another size would have failed the evaluation).
        Assert.NotNull(eval.PixelAuroc);
    }

    [Fact]
    public void ScoreFilesYieldsOneResultPerPathInInputOrderWithItsOwnMapAndErrors()
    {
        string broken = Path.Combine(_category.Root, "broken.png");
        File.WriteAllBytes(broken, File.ReadAllBytes(_category.Test[0])[..400]);
        string missing = Path.Combine(_category.Root, "missing.png");
        // Interleaved sizes, a truncated file and a missing one among them, and an image twice.
        string[] paths = [_category.Test[0], broken, .. _category.Test[1..4], missing, .. _category.Test[4..], _category.Test[1]];

        using var detector = PatchCoreDetector.Load(fixture.Bank, new DetectorOptions { BatchSize = 2 });
        using var metrics = new ScoringMeasurements();
        var results = detector.ScoreFiles(paths).ToArray();
        try
        {
            Assert.Equal(paths.Length, results.Length);
            for (int i = 0; i < paths.Length; i++)
            {
                var r = results[i];
                Assert.Equal(i, r.Index);
                Assert.Equal(paths[i], r.Path);
                if (paths[i] == broken || paths[i] == missing)
                {
                    Assert.False(r.Succeeded);
                    Assert.Contains(paths[i], r.Error!.Message);
                    Assert.Equal(ScoreTimings.Zero, r.Timings);
                    Assert.Null(r.Image);
                    Assert.Throws<ImageLoadException>(() => r.Score);
                    continue;
                }
                Assert.True(r.Succeeded, r.Reason);
                Assert.Equal(paths[i], r.Detection.SourcePath);
                Assert.Equal(paths[i], r.Image!.SourcePath);
                // whole image, shorter side 256: the map has the input's own size
                Assert.Equal(_category.SizeOf[paths[i]], (r.Detection.Map.Width, r.Detection.Map.Height));
                Assert.Equal(_category.SizeOf[paths[i]], (r.Image.Width, r.Image.Height));
                Assert.False(r.Image.HasOriginal);
                // every phase was timed for this image, and decoding was measured for it alone
                Assert.True(r.Timings.Decode > TimeSpan.Zero && r.Timings.Embedding > TimeSpan.Zero && r.Timings.Search > TimeSpan.Zero && r.Timings.Map > TimeSpan.Zero, $"{paths[i]}: {r.Timings}");
                Assert.Equal(r.Timings.Decode + r.Timings.Embedding + r.Timings.Search + r.Timings.Map, r.Timings.Total);
            }
            Assert.Contains("truncated", results[1].Reason);
            Assert.Equal("file not found", results[5].Reason);
            // The same image scored twice, in different batches, gets the same score.
            Assert.Equal(results[2].Score, results[^1].Score, results[2].Score * 1e-4);
            Assert.Equal(_category.Distinct, results.Where(r => r.Succeeded).MaxBy(r => r.Score)!.Path);
            // The library's instruments saw the same: 7 scored, 2 failed, four phases timed per scored image.
            Assert.Equal(7, results.Count(r => r.Succeeded));
            Assert.Equal(7, metrics.Images("scored"));
            Assert.Equal(2, metrics.Images("failed"));
            Assert.Equal(["decode", "embed", "map", "search"], metrics.PhaseCounts.Keys.Order(StringComparer.Ordinal));
            Assert.All(metrics.PhaseCounts.Values, n => Assert.Equal(7, n));
        }
        finally
        {
            foreach (var r in results) r.Dispose();
        }
    }

    [Fact]
    public void AScorerAbandonedMidwayFreesTheRestAndCanScoreAgain()
    {
        using var detector = PatchCoreDetector.Load(fixture.Bank);
        using (var first = detector.ScoreFiles(_category.Test, keepOriginals: true).First())
        {
            Assert.True(first.Image!.HasOriginal);
            string png = Path.Combine(_category.Root, "first.png");
            detector.WriteHeatmap(first, png);
            Assert.Equal(_category.SizeOf[first.Path], ImageSize(png));
        }
        Assert.Equal(_category.Test.Length, detector.ScoreAll(_category.Test).Length);
    }

    private static (int, int) ImageSize(string png)
    {
        var info = SixLabors.ImageSharp.Image.Identify(png);
        return (info.Width, info.Height);
    }
}

/// <summary>What the library's meter (<c>PatchCore</c>) records on the calling thread while it lives.</summary>
internal sealed class ScoringMeasurements : IDisposable
{
    private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
    private readonly int _thread = Environment.CurrentManagedThreadId;
    private readonly Dictionary<string, long> _images = new();

    public ScoringMeasurements()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "PatchCore") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (Environment.CurrentManagedThreadId != _thread || instrument.Name != "patchcore.scoring.images") return;
            string outcome = (string)Tag(tags, "outcome")!;
            _images[outcome] = _images.GetValueOrDefault(outcome) + value;
        });
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (Environment.CurrentManagedThreadId != _thread || instrument.Name != "patchcore.scoring.phase.duration") return;
            Assert.True(value >= 0, $"negative duration {value}");
            string phase = (string)Tag(tags, "phase")!;
            PhaseCounts[phase] = PhaseCounts.GetValueOrDefault(phase) + 1;
        });
        _listener.Start();
    }

    public Dictionary<string, int> PhaseCounts { get; } = new();

    public long Images(string outcome) => _images.GetValueOrDefault(outcome);

    private static object? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var tag in tags)
            if (tag.Key == key) return tag.Value;
        return null;
    }

    public void Dispose() => _listener.Dispose();
}

/// <summary>The mixed-size category and a bank file built from all its training images, as evaluation builds its bank.</summary>
public sealed class MixedSizeBankFixture : IDisposable
{
    public static readonly ModelOptions WholeImages = new() { Geometry = ImageGeometry.Parse("256", "none") };
    public const double Coreset = 0.1;

    public MixedSizeBankFixture()
    {
        Category = MixedSizeCategory.Create();
        Bank = Path.Combine(Category.Root, "mixed.pcbank");
        // Evaluation puts every training image into its bank, so none is held out here either.
        PatchCoreBankBuilder.Build(new BuildOptions(Category.Train, Bank) { Model = WholeImages, CoresetFraction = Coreset, HoldOutFraction = 0 });
    }

    public MixedSizeCategory Category { get; }
    public string Bank { get; }

    public void Dispose() => Category.Dispose();
}
