using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;
using Xunit;

namespace PatchCore.Core.Tests.Scoring;

/// <summary>Banks that score images by position (<c>--image-score position</c>), built and scored through the one path.</summary>
public sealed class PositionScoringTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pc-position-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [DataFact("bottle")]
    public void ABankScoringByPositionStoresItsStatisticsAndScoresEveryImageAgainstThem()
    {
        var train = TestData.Images("bottle", "train/good").Take(40).ToArray();
        string bank = Path.Combine(_dir, "position.pcbank");
        // the default rule (Auto) takes position: 10 held-out maps of one size
        var summary = PatchCoreBankBuilder.Build(new BuildOptions(train, bank) { HoldOutFraction = 0.25 });
        Assert.Equal(ImageScoreRule.Position, summary.ImageScore);
        Assert.Equal("10 held-out good maps of 224x224", summary.ImageScoreChoice);

        var c = MemoryBankFile.Read(bank).Metadata.Calibration;
        Assert.Equal(ImageScoreRule.Position, c.ImageScore);
        Assert.Equal(summary.ImageScoreChoice, c.ImageScoreChoice);
        var stats = Assert.IsType<PositionStatistics>(c.Position);
        Assert.Equal((224, 224, 10), (stats.Width, stats.Height, stats.Images));
        Assert.Equal(56 * 56, stats.Mean.Length);
        Assert.Equal(10, c.HeldOutScores.Count);
        Assert.NotNull(c.Threshold);
        Assert.Equal(c.HeldOutScores.Max(), c.ReviewThreshold!.Value, 9); // review: the highest held-out (leave-one-out) score

        using var detector = PatchCoreDetector.Load(bank);
        var defects = TestData.Images("bottle", "test/broken_large").Take(4).ToArray();
        var goods = TestData.Images("bottle", "test/good").Take(4).ToArray();
        var results = detector.ScoreFiles([.. defects, .. goods]).Select(f => { using (f) return (f.Detection!, f.Verdict); }).ToArray();
        foreach (var (d, _) in results)
            Assert.Equal(stats.Score(d.Map.Values, d.Map.Width, d.Map.Height), d.Score, 9);
        Assert.All(results.Take(4), r => Assert.Equal(Verdict.Ng, r.Verdict));
        Assert.True(results.Take(4).Min(r => r.Item1.Score) > results.Skip(4).Max(r => r.Item1.Score));
        var reweight = Assert.Throws<PatchCoreException>(() => PatchCoreDetector.Load(bank, new DetectorOptions { Scoring = new ScoringOptions { Reweight = true } }));
        Assert.Contains("--reweight", reweight.Message);
    }

    [DataFact("bottle")]
    public void AnUpdateKeepsScoringByPositionWithStatisticsFromAllItsHeldOutImages()
    {
        var images = TestData.Images("bottle", "train/good");
        string bank = Path.Combine(_dir, "position.pcbank"), updated = Path.Combine(_dir, "updated.pcbank");
        PatchCoreBankBuilder.Build(new BuildOptions(images.Take(40).ToArray(), bank) { HoldOutFraction = 0.25, ImageScore = ImageScoreRule.Position });
        PatchCoreBankUpdater.Update(new UpdateOptions(bank, images.Skip(40).Take(20).ToArray(), updated) { HoldOutFraction = 0.25, CoresetCount = 200 });

        var before = MemoryBankFile.Read(bank).Metadata.Calibration;
        var after = MemoryBankFile.Read(updated).Metadata.Calibration;
        Assert.Equal(ImageScoreRule.Position, after.ImageScore);
        var stats = Assert.IsType<PositionStatistics>(after.Position);
        // the parent's 10 held-out images are scored again against the new bank, with the update's own 5
        Assert.Equal(15, after.HeldOutScores.Count);
        Assert.Equal(15, stats.Images);
        Assert.NotEqual(before.Position!.Mean, stats.Mean);
        Assert.Equal(after.HeldOutScores.Max(), after.ReviewThreshold!.Value, 9);
    }

    [DataFact("bottle")]
    public void AnUpdateWhoseHeldOutImagesAreGoneKeepsTheParentsStatistics()
    {
        var images = TestData.Images("bottle", "train/good");
        // the bank's training images are copies, so that its held-out ones can disappear before the update
        var copies = images.Take(40).Select(p =>
        {
            string copy = Path.Combine(_dir, Path.GetFileName(p));
            File.Copy(p, copy);
            return copy;
        }).ToArray();
        string bank = Path.Combine(_dir, "position.pcbank"), updated = Path.Combine(_dir, "updated.pcbank");
        PatchCoreBankBuilder.Build(new BuildOptions(copies, bank) { HoldOutFraction = 0.25, ImageScore = ImageScoreRule.Position });
        var before = MemoryBankFile.Read(bank).Metadata.Calibration;
        foreach (string path in before.HeldOutPaths!) File.Delete(path!);

        // nothing of the update held out either: no held-out map is left to fit statistics from
        PatchCoreBankUpdater.Update(new UpdateOptions(bank, images.Skip(40).Take(12).ToArray(), updated) { HoldOutFraction = 0, CoresetCount = 100 });
        var after = MemoryBankFile.Read(updated).Metadata.Calibration;
        Assert.Equal(ImageScoreRule.Position, after.ImageScore);
        Assert.Equal(10, after.CarriedOver.Count);
        Assert.Equal(before.HeldOutScores, after.HeldOutScores); // all carried, in the kept statistics' units
        Assert.Equal(before.Position!.Mean, after.Position!.Mean);
        Assert.Equal(before.Position.Deviation, after.Position.Deviation);
    }

    [DataFact("bottle")]
    public void TooFewHeldOutImagesAreRefusedWithTheCount()
    {
        var train = TestData.Images("bottle", "train/good").Take(20).ToArray();
        var ex = Assert.Throws<PatchCoreException>(() =>
            PatchCoreBankBuilder.Build(new BuildOptions(train, Path.Combine(_dir, "few.pcbank")) { HoldOutFraction = 0.1, ImageScore = ImageScoreRule.Position }));
        Assert.Contains("at least 8 held-out", ex.Message);
        Assert.Contains("got 3", ex.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "few.pcbank")));

        // the default rule (Auto) takes the highest patch distance instead, and says why
        var summary = PatchCoreBankBuilder.Build(new BuildOptions(train, Path.Combine(_dir, "few.pcbank")) { HoldOutFraction = 0.1 });
        Assert.Equal(ImageScoreRule.Max, summary.ImageScore);
        var c = MemoryBankFile.Read(Path.Combine(_dir, "few.pcbank")).Metadata.Calibration;
        Assert.Equal((ImageScoreRule.Max, 3), (c.ImageScore, c.HeldOutScores.Count));
        Assert.Null(c.Position);
        Assert.Equal("3 held-out good images with maps, and the image score by position needs at least 8", c.ImageScoreChoice);
        using var detector = PatchCoreDetector.Load(Path.Combine(_dir, "few.pcbank"));
        using var file = detector.ScoreFiles([TestData.Images("bottle", "test/good")[0]]).Single();
        Assert.Equal(file.Detection!.PatchScores.Max(), file.Detection.Score, 5);
    }

    [Fact]
    public void ImagesOfSeveralInputSizesAreRefusedNamingTwoOfThem()
    {
        using var category = MixedSizeCategory.Create();
        var ex = Assert.Throws<PatchCoreException>(() => PatchCoreBankBuilder.Build(new BuildOptions(category.Train, Path.Combine(category.Root, "mixed.pcbank"))
        {
            Model = MixedSizeBankFixture.WholeImages,
            HoldOutFraction = 0.5,
            ImageScore = ImageScoreRule.Position,
        }));
        Assert.Contains("one input size", ex.Message);
        Assert.Matches(@"\d+x\d+ map and .* a \d+x\d+ one", ex.Message);

        // the default rule (Auto) takes the highest patch distance instead, naming two sizes
        var summary = PatchCoreBankBuilder.Build(new BuildOptions(category.Train, Path.Combine(category.Root, "mixed.pcbank"))
        {
            Model = MixedSizeBankFixture.WholeImages,
            HoldOutFraction = 0.5,
        });
        Assert.Equal(ImageScoreRule.Max, summary.ImageScore);
        Assert.Matches(@"^the held-out maps differ in size \(held-out image .* gives a \d+x\d+ map and .* a \d+x\d+ one\)", summary.ImageScoreChoice);
    }

    [DataFact("bottle")]
    public void ABankFileThatStoresTheAutoRuleIsRefusedByName()
    {
        var train = TestData.Images("bottle", "train/good").Take(12).ToArray();
        string bank = Path.Combine(_dir, "max.pcbank"), tampered = Path.Combine(_dir, "auto.pcbank");
        PatchCoreBankBuilder.Build(new BuildOptions(train, bank) { HoldOutFraction = 0.25, CoresetCount = 50 });
        var content = MemoryBankFile.Read(bank);
        MemoryBankFile.Write(tampered, content.Metadata with { Calibration = content.Metadata.Calibration with { ImageScore = ImageScoreRule.Auto } },
            content.Vectors, content.IndexBytes);
        var ex = Assert.Throws<BankFileException>(() => PatchCoreDetector.Load(tampered));
        Assert.Contains(tampered, ex.Message);
        Assert.Contains("Auto is a build's choice", ex.Problem);
    }

    [Fact]
    public void NoHoldOutIsRefusedBeforeAnyWork()
    {
        var options = new BuildOptions(["a.png"], "x.pcbank") { HoldOutFraction = 0, ImageScore = ImageScoreRule.Position };
        var ex = Assert.Throws<PatchCoreException>(options.Validate);
        Assert.Contains("--holdout", ex.Message);
    }
}
