using PatchCore.Core.Evaluation;
using Xunit;

namespace PatchCore.Core.Tests.Evaluation;

public sealed class MvtecCategoryTests : IDisposable
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), "patchcore-mvtec-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_temp))
            Directory.Delete(_temp, recursive: true);
    }

    [DataFact("magnetic_tile")]
    public void ReadsMagneticTileWithMasks()
    {
        var category = MvtecCategory.Load(TestData.Require("magnetic_tile"));
        Assert.Equal("magnetic_tile", category.Name);
        Assert.True(category.HasMasks);
        Assert.Equal(761, category.TrainGood.Count);
        var counts = category.Test.GroupBy(t => t.DefectType).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<string, int> { ["blowhole"] = 115, ["break"] = 85, ["crack"] = 57, ["fray"] = 32, ["good"] = 191, ["uneven"] = 103 }, counts);
        Assert.All(category.Test.Where(t => t.IsAnomalous), t => Assert.True(File.Exists(t.MaskPath), t.ImagePath));
        Assert.All(category.Test.Where(t => !t.IsAnomalous), t => Assert.Null(t.MaskPath));
        Assert.Equal(["blowhole", "break", "crack", "fray", "good", "uneven"], category.DefectTypes);
        Assert.Equal(category.TrainGood.OrderBy(p => p, StringComparer.Ordinal), category.TrainGood);
    }

    [DataFact("bottle")]
    public void ReadsBottleWithoutMasks()
    {
        var category = MvtecCategory.Load(TestData.Require("bottle"));
        Assert.False(category.HasMasks);
        Assert.Equal(209, category.TrainGood.Count);
        var counts = category.Test.GroupBy(t => t.DefectType).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<string, int> { ["good"] = 20, ["broken_large"] = 20, ["broken_small"] = 22, ["contamination"] = 21 }, counts);
        Assert.All(category.Test, t => Assert.Null(t.MaskPath));
        Assert.Equal(63, category.Test.Count(t => t.IsAnomalous));
    }

    [Fact]
    public void TakesImageExtensionsInAnyCaseInOrdinalOrder()
    {
        Touch("train/good/b.PNG", "train/good/a.jpg", "train/good/C.jpeg", "train/good/d.Bmp", "train/good/notes.txt",
              "test/good/1.png", "test/scratch/2.JPG", "ground_truth/scratch/2_mask.png");
        var category = MvtecCategory.Load(_temp);
        Assert.Equal(["C.jpeg", "a.jpg", "b.PNG", "d.Bmp"], category.TrainGood.Select(Path.GetFileName));
        Assert.True(category.HasMasks);
        var scratch = Assert.Single(category.Test, t => t.IsAnomalous);
        Assert.Equal(Path.Combine(_temp, "ground_truth", "scratch", "2_mask.png"), scratch.MaskPath);
        Assert.Equal("scratch", scratch.DefectType);
    }

    [Fact]
    public void MissingMaskNamesTheExpectedPath()
    {
        Touch("train/good/a.png", "test/good/1.png", "test/scratch/2.png", "test/scratch/3.png", "ground_truth/scratch/2_mask.png");
        var ex = Assert.Throws<PatchCoreException>(() => MvtecCategory.Load(_temp));
        Assert.Contains(Path.Combine(_temp, "ground_truth", "scratch", "3_mask.png"), ex.Message);
    }

    [Fact]
    public void WrongLayoutsSayWhatWasExpectedWhere()
    {
        var missing = Assert.Throws<PatchCoreException>(() => MvtecCategory.Load(_temp));
        Assert.Contains(_temp, missing.Message);

        Directory.CreateDirectory(_temp);
        Touch("test/good/1.png");
        var noTrain = Assert.Throws<PatchCoreException>(() => MvtecCategory.Load(_temp));
        Assert.Contains(Path.Combine(_temp, "train", "good"), noTrain.Message);

        Touch("train/good/readme.txt");
        var emptyTrain = Assert.Throws<PatchCoreException>(() => MvtecCategory.Load(_temp));
        Assert.Contains(Path.Combine(_temp, "train", "good"), emptyTrain.Message);
        Assert.Contains("no training images", emptyTrain.Message);

        Touch("train/good/a.png");
        Directory.Delete(Path.Combine(_temp, "test"), recursive: true);
        var noTest = Assert.Throws<PatchCoreException>(() => MvtecCategory.Load(_temp));
        Assert.Contains(Path.Combine(_temp, "test"), noTest.Message);

        Directory.CreateDirectory(Path.Combine(_temp, "test", "good"));
        var emptyTest = Assert.Throws<PatchCoreException>(() => MvtecCategory.Load(_temp));
        Assert.Contains("no test images", emptyTest.Message);
    }

    private void Touch(params string[] relativePaths)
    {
        foreach (string relative in relativePaths)
        {
            string path = Path.Combine(_temp, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, [0]);
        }
    }
}
