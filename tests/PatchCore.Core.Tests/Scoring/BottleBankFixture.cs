using PatchCore.Core.Imaging;
using Xunit;

namespace PatchCore.Core.Tests.Scoring;

/// <summary>One bank built once from 40 good bottle images (every 5th of train/good, sorted), shared by the end-to-end tests.</summary>
public sealed class BottleBankFixture : IDisposable
{
    public BottleBankFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("pc-bottle-bank-").FullName;
        if (!TestData.Has("bottle")) return;
        TrainImages = TestData.Images("bottle", "train/good").Where((_, i) => i % 5 == 0).Take(40).ToArray();
        BankPath = Path.Combine(Directory, "bottle40.pcbank");
        Summary = PatchCoreBankBuilder.Build(new BuildOptions(TrainImages, BankPath)
        {
            Model = new ModelOptions { Geometry = ImageGeometry.Default },
            CoresetFraction = 0.1,
        });
    }

    public string Directory { get; }
    public string[] TrainImages { get; } = [];
    public string BankPath { get; } = "";
    public BuildSummary? Summary { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

[CollectionDefinition("bottle bank")]
public sealed class BottleBankCollection : ICollectionFixture<BottleBankFixture>;
