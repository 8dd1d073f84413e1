using PatchCore.Core.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace PatchCore.Core.Tests.Imaging;

public sealed class RegionOfInterestTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pc-roi-").FullName;

    /// <summary>A 100x50 mask, black (ignored) on its left fifth.</summary>
    private string Mask()
    {
        using var mask = new Image<Rgb24>(100, 50, new Rgb24(255, 255, 255));
        for (int y = 0; y < 50; y++) for (int x = 0; x < 20; x++) mask[x, y] = new Rgb24(0, 0, 0);
        string path = Path.Combine(_dir, "roi.png");
        mask.SaveAsPng(path);
        return path;
    }

    [Fact]
    public void TheMaskFollowsEachImagesResizeAndCrop()
    {
        var roi = RegionOfInterest.Load(Mask());
        Assert.Equal((100, 50), (roi.Width, roi.Height));
        Assert.Equal(0.8, roi.InspectedShare, 6);
        // a 400x200 original resized to 256x128 and cropped to 96x96 at (80, 16): input x maps to resized x + 80
        var image = new DecodedImage("a.png", 400, 200, 256, 128, 80, 16, 96, 96, new byte[96 * 96 * 3], null);
        bool[] inspected = roi.InspectedPixels(image);
        // the ignored fifth is resized x < 51.2: entirely left of the crop, so all of this input is inspected
        Assert.All(inspected, Assert.True);
        var uncropped = new DecodedImage("b.png", 400, 200, 256, 128, 0, 0, 256, 128, new byte[256 * 128 * 3], null);
        bool[] whole = roi.InspectedPixels(uncropped);
        Assert.False(whole[10 * 256 + 50]);
        Assert.True(whole[10 * 256 + 52]);
        Assert.Equal(51, Enumerable.Range(0, 256).Count(x => !whole[x]));
        // the bank carries the mask as PNG bytes: a copy read back from them gives the same pixels
        var copy = new RegionOfInterest { Width = roi.Width, Height = roi.Height, Png = roi.Png };
        Assert.Equal(whole, copy.InspectedPixels(uncropped));
    }

    [Fact]
    public void ACellIsInspectedWhenAtLeastHalfOfItIs()
    {
        var pixels = new bool[16 * 8];
        for (int y = 0; y < 8; y++) for (int x = 0; x < 16; x++) pixels[y * 16 + x] = x >= 4;
        // two 8x8 cells: the left one half inspected (x 4..7), the right one fully
        Assert.Equal([true, true], RegionOfInterest.InspectedCells(pixels, 16, 8, 2, 1));
        for (int y = 0; y < 8; y++) pixels[y * 16 + 4] = false;
        Assert.Equal([false, true], RegionOfInterest.InspectedCells(pixels, 16, 8, 2, 1));
    }

    [Fact]
    public void AMaskThatIgnoresEverythingOrIsNoImageIsRefusedByName()
    {
        string black = Path.Combine(_dir, "black.png");
        using (var image = new Image<L8>(10, 10)) image.SaveAsPng(black);
        var e = Assert.Throws<ImageLoadException>(() => RegionOfInterest.Load(black));
        Assert.Contains(black, e.Message);
        Assert.Contains("black everywhere", e.Message);
        string text = Path.Combine(_dir, "mask.png");
        File.WriteAllText(text, "not a mask");
        Assert.Contains(text, Assert.Throws<ImageLoadException>(() => RegionOfInterest.Load(text)).Message);
        Assert.Contains("not found", Assert.Throws<ImageLoadException>(() => RegionOfInterest.Load(Path.Combine(_dir, "none.png"))).Message);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
