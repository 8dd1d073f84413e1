using PatchCore.Core.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace PatchCore.Core.Tests.Imaging;

/// <summary><c>--geometry auto</c>: the size chosen from the training images' headers.</summary>
public sealed class AutoGeometryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pc-auto-").FullName;

    private string[] Images(params (int Width, int Height)[] sizes) => sizes.Select((s, i) =>
    {
        string path = Path.Combine(_dir, $"{i:D3}_{s.Width}x{s.Height}.png");
        using var image = new Image<Rgb24>(s.Width, s.Height);
        image.SaveAsPng(path);
        return path;
    }).ToArray();

    [Fact]
    public void LongPartsKeepTheirAspectWithinThePixelBudgetInMultiplesOf8()
    {
        // long parts of about 1260 x 500 (aspect 2.52), sizes varying a little
        var choice = AutoGeometry.Choose(Images((1260, 500), (1250, 498), (1270, 502), (1262, 500), (1255, 501)));
        var g = choice.Geometry;
        Assert.True(g.Auto);
        Assert.Null(g.Crop);
        Assert.Null(g.Tile);
        Assert.Equal((568, 224), (g.Width, g.Height));
        Assert.Equal(0, g.Width!.Value % 8);
        Assert.True(g.Width * g.Height <= AutoGeometry.DefaultPixelBudget);
        Assert.Null(choice.Warning);
        Assert.Contains("568x224, crop none", choice.ToString());
        Assert.Equal("resize 568x224 (auto), crop none", g.ToString());
    }

    [Fact]
    public void ImagesSmallerThanTheBudgetAreNeverUpscaled()
    {
        var g = AutoGeometry.Choose(Images((300, 120), (300, 120), (301, 121))).Geometry;
        Assert.Equal((296, 120), (g.Width, g.Height));
        var square = AutoGeometry.Choose(Images((1024, 1024)), pixelBudget: 320 * 320).Geometry;
        Assert.Equal((320, 320), (square.Width, square.Height));
    }

    [Fact]
    public void ImagesOfVeryDifferentAspectAreCalledOutAndTheTilingIsKept()
    {
        var choice = AutoGeometry.Choose(Images((600, 200), (400, 400), (300, 600)), ImageTiling.Parse("128:16"));
        // median aspect 1: a square
        Assert.Equal(choice.Geometry.Width, choice.Geometry.Height);
        Assert.NotNull(choice.Warning);
        Assert.Contains("differ a lot in aspect (width/height 0.5 to 3)", choice.ToString());
        Assert.Equal(ImageTiling.Parse("128:16"), choice.Geometry.Tile);
    }

    [Fact]
    public void AFileThatIsNoImageIsNamed()
    {
        string bad = Path.Combine(_dir, "notes.png");
        File.WriteAllText(bad, "not an image");
        var ex = Assert.Throws<ImageLoadException>(() => AutoGeometry.Choose([.. Images((100, 100)), bad]));
        Assert.Contains(bad, ex.Message);
    }

    [Fact]
    public void BuildOptionsResolveTheChoiceFromTheirTrainingImages()
    {
        var train = Images((640, 256), (640, 256));
        var (resolved, choice) = new BuildOptions(train, "x.pcbank") { AutoGeometry = true }.ResolveGeometry();
        Assert.False(resolved.AutoGeometry);
        Assert.Equal(choice!.Geometry, resolved.Model.Geometry);
        Assert.Equal((568, 224), (resolved.Model.Geometry.Width, resolved.Model.Geometry.Height));
        var (unchanged, none) = new BuildOptions(train, "x.pcbank").ResolveGeometry();
        Assert.Null(none);
        Assert.Equal(ImageGeometry.Default, unchanged.Model.Geometry);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }
}
