using PatchCore.Core.Evaluation;
using PatchCore.Core.Imaging;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Core.Tests.Accuracy;

/// <summary>
/// An update is as good as a rebuild: on magnetic_tile (bottle's AUROC is 1.0 for any reasonable bank, so it could not
/// tell), a bank from a quarter of the training images (every 4th) updated with the next quarter (the images at 4k+1)
/// scores the test split within 0.01 image AUROC of a bank rebuilt from both quarters. Every image is in its bank (no
/// hold-out), so both banks saw the same images. The figures with timings and memory: tools/PatchCore.Bench --section update.
/// </summary>
[Trait("Category", "Accuracy")]
public sealed class UpdateAccuracyTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pc-update-accuracy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [DataFact("magnetic_tile")]
    public void AnUpdateFromAQuarterToHalfScoresLikeARebuild()
    {
        string category = TestData.Require("magnetic_tile");
        var train = MvtecCategory.Load(category).TrainGood;
        string[] quarter = train.Where((_, i) => i % 4 == 0).ToArray(), next = train.Where((_, i) => i % 4 == 1).ToArray();
        var geometry = ImageGeometry.Parse("256x256", "224");
        BuildOptions Build(string[] images, string path) => new(images, path) { Model = new ModelOptions { Geometry = geometry }, CoresetFraction = 0.1, HoldOutFraction = 0 };

        string old = Path.Combine(_dir, "quarter.pcbank"), updated = Path.Combine(_dir, "updated.pcbank"), rebuilt = Path.Combine(_dir, "rebuilt.pcbank");
        PatchCoreBankBuilder.Build(Build(quarter, old));
        var update = PatchCoreBankUpdater.Update(new UpdateOptions(old, next, updated) { HoldOutFraction = 0 });
        var rebuild = PatchCoreBankBuilder.Build(Build([.. quarter, .. next], rebuilt));

        var fromUpdate = CategoryEvaluator.RunOnBank(category, updated);
        var fromRebuild = CategoryEvaluator.RunOnBank(category, rebuilt);
        output.WriteLine($"update: {quarter.Length} + {next.Length} images, {update.VectorsBefore} + {update.VectorsAdded} = {update.VectorsAfter} vectors ({update.Rule}); image AUROC {fromUpdate.ImageAuroc:0.0000}, pixel AUROC {fromUpdate.PixelAuroc:0.0000}");
        output.WriteLine($"rebuild: {quarter.Length + next.Length} images, {rebuild.BankVectors} vectors; image AUROC {fromRebuild.ImageAuroc:0.0000}, pixel AUROC {fromRebuild.PixelAuroc:0.0000}");
        Assert.Equal(quarter.Length + next.Length, fromUpdate.TrainImages);
        Assert.Equal(fromRebuild.TestImages, fromUpdate.TestImages);
        Assert.True(update.VectorsAdded > 0);
        Assert.True(Math.Abs(fromUpdate.ImageAuroc - fromRebuild.ImageAuroc) <= 0.01,
            $"image AUROC after the update {fromUpdate.ImageAuroc:0.0000}, after a rebuild {fromRebuild.ImageAuroc:0.0000}");
    }
}
