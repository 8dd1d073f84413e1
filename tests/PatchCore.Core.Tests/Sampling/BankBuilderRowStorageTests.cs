using PatchCore.Core.Imaging;
using PatchCore.Core.Sampling;
using Xunit;
using PatchCore.Core.Embedding;

namespace PatchCore.Core.Tests.Sampling;

public class BankBuilderRowStorageTests
{
    [DataFact("bottle")]
    public void TempFileAndMemoryRowStorageFitTheSameBank()
    {
        var images = TestData.Images("bottle", "train/good").Take(6).ToArray();
        var model = new ModelOptions { Geometry = ImageGeometry.Default };
        var options = new BuildOptions(images, "(in memory)") { Model = model, CoresetFraction = 0.1, HoldOutFraction = 0 };
        Assert.Equal(CandidateRowStorage.TempFile, options.CandidateRows); // the default
        using var pipeline = new FeaturePipeline(model);

        var fromFile = PatchCoreBankBuilder.Fit(pipeline, images, options);
        var fromMemory = PatchCoreBankBuilder.Fit(pipeline, images, options with { CandidateRows = CandidateRowStorage.Memory });

        Assert.Equal(6L * 784, fromFile.Candidates);
        Assert.Equal((long)Math.Floor(6 * 784 * 0.1), fromFile.VectorCount);
        Assert.Equal(fromMemory.Candidates, fromFile.Candidates);
        Assert.Equal(fromMemory.Vectors, fromFile.Vectors);
    }

    [Fact]
    public void UnknownRowStorageIsRejected()
    {
        var options = new BuildOptions(["a.png"], "out.pcbank") { CandidateRows = (CandidateRowStorage)7 };
        var ex = Assert.Throws<PatchCoreException>(options.Validate);
        Assert.Contains("row storage", ex.Message);
    }
}
