using PatchCore.Core.Evaluation;
using PatchCore.Core.MemoryBank;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using Xunit.Abstractions;
using PatchCore.Core.Search;

namespace PatchCore.Core.Tests.Scoring;

[Collection("bottle bank")]
public sealed class EndToEndTests(BottleBankFixture bank, ITestOutputHelper output)
{
    [DataFact("bottle")]
    public void BuildOnFortyGoodBottlesAndScoreTheTestSplit()
    {
        var s = bank.Summary!;
        output.WriteLine($"bank: {s.BankImages} images + {s.HeldOutImages} held out, {s.Candidates} candidates -> {s.BankVectors} x {s.Dimension}, threshold {s.Threshold}; features {s.FeatureTime.TotalSeconds:0.0}s coreset {s.CoresetTime.TotalSeconds:0.0}s index {s.IndexTime.TotalSeconds:0.00}s");
        Assert.Equal(40, s.BankImages + s.HeldOutImages);
        Assert.Equal(4, s.HeldOutImages);
        Assert.Equal(36L * 784, s.Candidates);
        Assert.Equal((long)Math.Floor(36 * 784 * 0.1), s.BankVectors);
        Assert.NotNull(s.Threshold);

        var category = MvtecCategory.Load(TestData.Category("bottle"));
        using var detector = PatchCoreDetector.Load(bank.BankPath);
        var scores = detector.ScoreAll(category.Test.Select(t => t.ImagePath).ToArray()).Select(d => (float)d.Score).ToList();
        var labels = category.Test.Select(t => t.IsAnomalous).ToArray();
        double auroc = ImageAuroc.Compute(scores.ToArray(), labels);
        output.WriteLine($"bottle test split: {scores.Count} images, image AUROC {auroc:0.0000}");
        Assert.Equal(83, scores.Count);
        Assert.True(auroc >= 0.95, $"image AUROC {auroc:0.0000} < 0.95");
    }

    [DataFact("bottle")]
    public void APastedDefectPutsTheAnomalyMapPeakOnIt()
    {
        // A good test bottle with a 24x24 block cut from a contamination image pasted at a known place.
        string good = TestData.Images("bottle", "test/good")[3];
        string defect = TestData.Images("bottle", "test/contamination")[0];
        string pasted = Path.Combine(bank.Directory, "pasted.png");
        using (var img = Image.Load<Rgb24>(good))
        using (var src = Image.Load<Rgb24>(defect))
        {
            // checkerboard of dark and bright pixels: nothing like a bottle's surface
            for (int y = 0; y < 24; y++)
                for (int x = 0; x < 24; x++)
                    img[150 + x, 90 + y] = ((x / 4 + y / 4) % 2 == 0) ? new Rgb24(250, 30, 30) : src[x + 10, y + 10];
            img.SaveAsPng(pasted);
        }
        using var detector = PatchCoreDetector.Load(bank.BankPath);
        var files = detector.ScoreFiles([good, pasted], keepOriginals: true).ToArray();
        using var clean = files[0];
        using var decoded = files[1];
        var d = files.Select(f => f.Detection!).ToArray();
        var map = d[1].Map;
        int argmax = Array.IndexOf(map.Values, map.Values.Max());
        // 256x256 original, resize 256 (no-op), crop 224 at offset 16: the block spans x 134..157, y 74..97 in the map
        int mx = argmax % map.Width, my = argmax / map.Width;
        output.WriteLine($"clean score {d[0].Score:0.000}, pasted score {d[1].Score:0.000}, map peak at ({mx},{my})");
        Assert.InRange(mx, 134 - 8, 157 + 8);
        Assert.InRange(my, 74 - 8, 97 + 8);
        Assert.True(d[1].Score > d[0].Score);
        string heat = Path.Combine(bank.Directory, "pasted_heatmap.png");
        detector.WriteHeatmap(decoded, heat);
        using var overlay = Image.Load<Rgb24>(heat);
        Assert.Equal((256, 256), (overlay.Width, overlay.Height));
    }

    [DataFact("bottle")]
    public void ABankOfOtherWeightsOrBackboneIsRefusedByName()
    {
        var content = MemoryBankFile.Read(bank.BankPath);
        string otherWeights = Path.Combine(bank.Directory, "other-weights.pcbank");
        MemoryBankFile.Write(otherWeights, content.Metadata with { WeightsId = new string('0', 64), WeightsDescription = "someone's checkpoint" }, content.Vectors, content.IndexBytes);
        var ex = Assert.Throws<BankFileException>(() => PatchCoreDetector.Load(otherWeights));
        Assert.Contains("other weights", ex.Problem);
        Assert.Contains(otherWeights, ex.Message);

        string otherBackbone = Path.Combine(bank.Directory, "other-backbone.pcbank");
        MemoryBankFile.Write(otherBackbone, content.Metadata with { Backbone = "wide_resnet50_2" }, content.Vectors, content.IndexBytes);
        var ex2 = Assert.Throws<BankFileException>(() => PatchCoreDetector.Load(otherBackbone));
        Assert.Contains("wide_resnet50_2", ex2.Message);
    }

    [DataFact("bottle")]
    public void EverySearchBackendGivesTheSameScoresOnRealData()
    {
        using var faiss = PatchCoreDetector.Load(bank.BankPath, new DetectorOptions { Search = SearchBackend.Faiss });
        using var torchSearch = PatchCoreDetector.Load(bank.BankPath, new DetectorOptions { Search = SearchBackend.Torch });
        using var auto = PatchCoreDetector.Load(bank.BankPath);
        using var approximate = PatchCoreDetector.Load(bank.BankPath, new DetectorOptions { Search = SearchBackend.ProjectedApproximate });
        Assert.IsType<FaissIndex>(faiss.Index);
        Assert.IsType<ProjectedFlatIndex>(auto.Index);   // a Flat bank on the CPU
        var paths = TestData.Images("bottle", "test/broken_large").Take(3).Concat(TestData.Images("bottle", "test/good").Take(2)).ToArray();
        var a = faiss.ScoreAll(paths);
        foreach (var other in new[] { torchSearch, auto })
        {
            var b = other.ScoreAll(paths);
            for (int i = 0; i < paths.Length; i++)
                for (int p = 0; p < a[i].PatchScores.Length; p++)
                {
                    double x = a[i].PatchScores[p], y = b[i].PatchScores[p];
                    Assert.True(Math.Abs(x - y) <= 1e-3 * Math.Max(Math.Abs(x), 1e-6), $"{paths[i]} patch {p}: faiss {x} vs {other.Index.GetType().Name} {y}");
                }
        }
        Assert.True(((ProjectedFlatIndex)auto.Index).ExactDistancesPerQuery < 0.05 * auto.Index.Count, "the projected search pruned little on real embeddings");

        // Approximate: no patch below its exact score, and the image scores exact (the highest patches are re-searched).
        var c = approximate.ScoreAll(paths);
        for (int i = 0; i < paths.Length; i++)
        {
            for (int p = 0; p < a[i].PatchScores.Length; p++)
                Assert.True(c[i].PatchScores[p] >= a[i].PatchScores[p] * (1 - 1e-3), $"{paths[i]} patch {p}: approximate {c[i].PatchScores[p]} below exact {a[i].PatchScores[p]}");
            Assert.Equal(a[i].Score, c[i].Score, a[i].Score * 1e-3);
        }
    }

    [DataFact("bottle")]
    public void HeldOutScoresInTheBankAreWhatTheDefaultSearchGivesThoseImages()
    {
        using var detector = PatchCoreDetector.Load(bank.BankPath);
        var calibration = detector.Metadata.Calibration;
        Assert.NotEmpty(calibration.HeldOutImages);
        var paths = calibration.HeldOutImages.Select(name => bank.TrainImages.Single(p => Path.GetFileName(p) == name)).ToArray();
        var scores = detector.ScoreAll(paths).Select(d => d.Score).ToArray();
        for (int i = 0; i < scores.Length; i++)
            Assert.Equal(calibration.HeldOutScores[i], scores[i], calibration.HeldOutScores[i] * 1e-5);
    }

    [Fact]
    public void AutoSearchPicksTheFastestExactBackend()
    {
        Assert.Equal(SearchBackend.Projected, SearchIndexFactory.Resolve(SearchBackend.Auto, "Flat", TorchSharp.DeviceType.CPU));
        Assert.Equal(SearchBackend.Torch, SearchIndexFactory.Resolve(SearchBackend.Auto, "Flat", TorchSharp.DeviceType.CUDA));
        Assert.Equal(SearchBackend.Faiss, SearchIndexFactory.Resolve(SearchBackend.Auto, "IVF256,Flat", TorchSharp.DeviceType.CPU));
        Assert.Equal(SearchBackend.Faiss, SearchIndexFactory.Resolve(SearchBackend.Faiss, "Flat", TorchSharp.DeviceType.CPU));
        Assert.Equal(SearchBackend.ProjectedApproximate, SearchBackends.Parse(" Projected-Approx "));
        var ex = Assert.Throws<PatchCoreException>(() => SearchBackends.Parse("annoy"));
        Assert.Contains("annoy", ex.Message);
        Assert.Contains("projected", ex.Message);
    }
}
