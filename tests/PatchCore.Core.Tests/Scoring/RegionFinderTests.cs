using PatchCore.Core.Imaging;
using PatchCore.Core.Scoring;
using Xunit;

namespace PatchCore.Core.Tests.Scoring;

public sealed class RegionFinderTests
{
    /// <summary>A 64x48 model input cut from a 160x96 resize (crop at 40, 24) of a 320x192 original: 2 original pixels per input pixel.</summary>
    private static DecodedImage Image() => new("img.png", 320, 192, 160, 96, 40, 24, 64, 48, new byte[64 * 48 * 3], null);

    private static float[] Map(params (int X, int Y, int W, int H, float Value)[] blocks)
    {
        var map = new float[64 * 48];
        foreach (var (x0, y0, w, h, v) in blocks)
            for (int y = y0; y < y0 + h; y++)
                for (int x = x0; x < x0 + w; x++)
                    map[y * 64 + x] = v;
        return map;
    }

    [Fact]
    public void RegionsAreMeasuredInOriginalPixelsThroughTheResizeAndCrop()
    {
        // a 16x6 block at input (5, 6) with a peak at (9, 7); a 1-pixel speck at (50, 40)
        var map = Map((5, 6, 16, 6, 2f), (9, 7, 1, 1, 3f), (50, 40, 1, 1, 5f));
        var (regions, pixels) = RegionFinder.Find(map, Image(), pixelThreshold: 1.5, new RegionOptions());

        var r = Assert.Single(regions); // the speck (4 original pixels) is below one 8x8 input cell (256 original pixels)
        // input x 5..20 -> resized 45..60 -> original 90..122; y 6..11 -> resized 30..35 -> original 60..72
        Assert.Equal((90, 60, 32, 12), (r.X, r.Y, r.Width, r.Height));
        Assert.Equal(96 * 4, r.Area);
        Assert.Equal(3, r.Peak, 6);
        Assert.Equal(((9 + 0.5 + 40) * 2, (7 + 0.5 + 24) * 2), (r.PeakX + 0.0, r.PeakY + 0.0));
        Assert.Equal((95 * 2 + 3) / 96.0, r.Mean, 6);
        Assert.Null(r.AreaMm2);
        Assert.Equal(96, pixels.Count(p => p != 0)); // the speck is not in the mask either
        Assert.Equal(0, pixels[40 * 64 + 50]);
    }

    [Fact]
    public void TheMinimumAreaAndMillimetresAreTheCallers()
    {
        var map = Map((5, 6, 16, 6, 2f), (50, 40, 1, 1, 5f));
        var (regions, _) = RegionFinder.Find(map, Image(), 1.5, new RegionOptions { MinArea = 4, MmPerPixel = 0.1 });
        Assert.Equal(2, regions.Count);
        Assert.Equal(5, regions[0].Peak, 6);                 // highest peak first
        Assert.Equal(4, regions[0].Area);
        Assert.Equal(384 * 0.01, regions[1].AreaMm2!.Value, 9);
        Assert.Equal(3.2, regions[1].WidthMm!.Value, 9);
        Assert.Equal(9.0, regions[1].XMm!.Value, 9);
    }

    [Fact]
    public void DiagonalNeighboursJoinAndIgnoredPixelsNeverFormARegion()
    {
        // two 8x8 blocks touching only at a corner: one 8-connected region
        var map = Map((0, 0, 8, 8, 2f), (8, 8, 8, 8, 2f), (30, 10, 12, 12, 4f));
        var (regions, _) = RegionFinder.Find(map, Image(), 1.5, new RegionOptions());
        Assert.Equal(2, regions.Count);
        Assert.Contains(regions, r => r.Area == 128 * 4);

        var inspected = Enumerable.Repeat(true, 64 * 48).ToArray();
        for (int y = 0; y < 48; y++) for (int x = 28; x < 64; x++) inspected[y * 64 + x] = false;
        var (masked, pixels) = RegionFinder.Find(map, Image(), 1.5, new RegionOptions(), inspected);
        Assert.Single(masked);
        Assert.Equal(2f, (float)masked[0].Peak);
        Assert.All(Enumerable.Range(0, pixels.Length).Where(i => pixels[i] != 0), i => Assert.True(inspected[i]));
    }

    [Fact]
    public void NothingAboveTheThresholdIsNoRegionAndAWrongSizedMapIsRefused()
    {
        var (regions, pixels) = RegionFinder.Find(new float[64 * 48], Image(), 0.5, new RegionOptions());
        Assert.Empty(regions);
        Assert.All(pixels, p => Assert.Equal(0, p));
        Assert.Throws<ArgumentException>(() => RegionFinder.Find(new float[10], Image(), 0.5, new RegionOptions()));
    }
}
