using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Core.Tests.Scoring;

/// <summary>
/// Tiled banks (<c>--tile</c>) on images of three interleaved sizes (<see cref="MixedSizeCategory"/>, whole images):
/// built from the tiles of good images, scored through the one scoring path, each map stitched to its own input's size.
/// </summary>
public sealed class TiledScoringTests(MixedSizeBankFixture fixture, ITestOutputHelper output) : IClassFixture<MixedSizeBankFixture>
{
    private readonly MixedSizeCategory _category = fixture.Category;

    private string BuildTiled(string tile)
    {
        string bank = Path.Combine(_category.Root, $"tiled-{tile.Replace(':', '-')}.pcbank");
        if (!File.Exists(bank))
            PatchCoreBankBuilder.Build(new BuildOptions(_category.Train, bank)
            {
                Model = MixedSizeBankFixture.WholeImages with { Geometry = MixedSizeBankFixture.WholeImages.Geometry with { Tile = ImageTiling.Parse(tile) } },
                CoresetFraction = MixedSizeBankFixture.Coreset,
                HoldOutFraction = 0,
            });
        return bank;
    }

    [Fact]
    public void ATileCoveringEveryImageGivesTheUntiledBankScoresAndMaps()
    {
        // 512 is larger than every input (256x256, 288x256, 256x320): each image is one tile of its own size
        string tiled = BuildTiled("512");
        var plain = MemoryBankFile.Read(fixture.Bank);
        var one = MemoryBankFile.Read(tiled);
        Assert.Equal(ImageTiling.Parse("512"), one.Metadata.Geometry.Tile);
        Assert.Equal(plain.Metadata.CandidateCount, one.Metadata.CandidateCount);
        Assert.Equal(plain.Vectors.Length, one.Vectors.Length);
        for (int i = 0; i < plain.Vectors.Length; i++) Assert.Equal(plain.Vectors[i], one.Vectors[i], 1e-4f);

        using var a = PatchCoreDetector.Load(fixture.Bank);
        using var b = PatchCoreDetector.Load(tiled);
        var untiledResults = a.ScoreAll(_category.Test);
        var tiledResults = b.ScoreAll(_category.Test);
        for (int i = 0; i < _category.Test.Length; i++)
        {
            Assert.Equal(untiledResults[i].Score, tiledResults[i].Score, untiledResults[i].Score * 1e-4);
            Assert.Equal((untiledResults[i].Map.Width, untiledResults[i].Map.Height), (tiledResults[i].Map.Width, tiledResults[i].Map.Height));
            float worst = untiledResults[i].Map.Values.Zip(tiledResults[i].Map.Values, (x, y) => MathF.Abs(x - y)).Max();
            Assert.True(worst <= 1e-3f * untiledResults[i].Map.Max, $"{_category.Test[i]}: maps differ by {worst}");
        }
    }

    [Fact]
    public void SmallerTilesScoreEveryImageWithAStitchedMapOfItsOwnSize()
    {
        string tiled = BuildTiled("128:32");
        var meta = MemoryBankFile.Read(tiled).Metadata;
        Assert.Equal("resize 256, crop none, tile 128:32", meta.Geometry.ToString());
        // every training image gives 9 tiles of 16 x 16 patches
        Assert.Equal(_category.Train.Length * 9 * 16 * 16, meta.CandidateCount);

        using var untiled = PatchCoreDetector.Load(fixture.Bank);
        using var detector = PatchCoreDetector.Load(tiled, new DetectorOptions { BatchSize = 5 }); // batches of tiles that split images
        var plain = untiled.ScoreAll(_category.Test);
        var results = detector.ScoreAll(_category.Test);
        for (int i = 0; i < results.Length; i++)
        {
            var d = results[i];
            var (w, h) = _category.SizeOf[_category.Test[i]];
            Assert.Equal((w, h), (d.Map.Width, d.Map.Height));
            Assert.All(d.Map.Values, v => Assert.True(float.IsFinite(v)));
            Assert.Equal((16, 16, 9 * 256), (d.GridWidth, d.GridHeight, d.PatchScores.Length));
            Assert.Equal(d.PatchScores.Max(), d.Score, 1e-6);
            double r = Correlation(plain[i].Map.Values, d.Map.Values);
            output.WriteLine($"{Path.GetFileName(d.SourcePath)} {w}x{h}: tiled {d.Score:0.000}, untiled {plain[i].Score:0.000}, map correlation {r:0.000}");
            Assert.NotEqual(plain[i].Map.Values, d.Map.Values);
        }
        // the deliberately distinct image stands out, and its map peaks on the pasted block (the central third)
        int distinct = Array.IndexOf(_category.Test, _category.Distinct);
        Assert.Equal(distinct, Array.IndexOf(results, results.MaxBy(r => r.Score)));
        var map = results[distinct].Map;
        int peak = Array.IndexOf(map.Values, map.Max);
        Assert.InRange(peak % map.Width, map.Width / 3, 2 * map.Width / 3);
        Assert.InRange(peak / map.Width, map.Height / 3, 2 * map.Height / 3);
        Assert.True(Correlation(plain[distinct].Map.Values, map.Values) > 0.5, "the tiled map should show what the untiled one shows");
    }

    private static double Correlation(float[] x, float[] y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxy / Math.Sqrt(sxx * syy);
    }
}
