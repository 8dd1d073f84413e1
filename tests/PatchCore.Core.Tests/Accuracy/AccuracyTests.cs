using PatchCore.Core.Evaluation;
using PatchCore.Core.Imaging;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Core.Tests.Accuracy;

/// <summary>
/// Accuracy floors on the shared benchmark data, default ResNet18, 10 % coreset, resize 256x256 + crop 224,
/// measured side by side with the paper's own implementation (same weights, data, geometry, coreset; every training image in the bank).
/// </summary>
[Trait("Category", "Accuracy")]
public sealed class AccuracyTests(ITestOutputHelper output)
{
    private static EvaluationOptions Options(int trainStride) => new()
    {
        Bank = new BuildOptions([], "(in memory)")
        {
            Model = new ModelOptions { Geometry = ImageGeometry.Parse("256x256", "224") },
            CoresetFraction = 0.1,
            HoldOutFraction = 0, // every training image in the bank, as the paper's code does
        },
        TrainStride = trainStride,
        GallerySize = 0,
    };

    private void Print(EvaluationResult r) => output.WriteLine(
        $"{r.Category}: train {r.TrainImages}, test {r.TestImages}, bank {r.BankVectors} of {r.Candidates}; image AUROC {r.ImageAuroc:0.0000}, " +
        $"pixel AUROC {r.PixelAuroc:0.0000}, PRO {r.Pro:0.0000}, image F1 {r.ImageF1.F1:0.0000}, pixel F1 {r.PixelF1?.F1:0.0000}; " +
        $"seconds: features {r.Seconds.Features:0.0}, coreset {r.Seconds.Coreset:0.0}, index {r.Seconds.Index:0.00}, score/image {r.Seconds.ScorePerImage:0.000}");

    [DataFact("magnetic_tile")]
    public void MagneticTileEverySecondTrainingImage()
    {
        var r = CategoryEvaluator.Run(TestData.Require("magnetic_tile"), Options(trainStride: 2));
        Print(r);
        Assert.Equal(381, r.TrainImages);
        Assert.Equal(191 + 115 + 85 + 57 + 32 + 103, r.TestImages);
        Assert.True(r.ImageAuroc >= 0.92, $"image AUROC {r.ImageAuroc:0.0000} < 0.92");
        Assert.True(r.PixelAuroc >= 0.80, $"pixel AUROC {r.PixelAuroc:0.0000} < 0.80");
        Assert.True(r.Pro >= 0.72, $"PRO {r.Pro:0.0000} < 0.72");
    }

    [DataFact("bottle")]
    public void BottleAllTrainingImages()
    {
        var r = CategoryEvaluator.Run(TestData.Require("bottle"), Options(trainStride: 1));
        Print(r);
        Assert.Equal(209, r.TrainImages);
        Assert.Equal(83, r.TestImages);
        Assert.Null(r.PixelAuroc);
        Assert.True(r.ImageAuroc >= 0.99, $"image AUROC {r.ImageAuroc:0.0000} < 0.99");
    }
}
