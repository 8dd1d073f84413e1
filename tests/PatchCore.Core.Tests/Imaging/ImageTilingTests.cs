using PatchCore.Core.Embedding;
using PatchCore.Core.Imaging;
using Xunit;
using static TorchSharp.torch;

namespace PatchCore.Core.Tests.Imaging;

/// <summary>The tiling option, its layouts (every pixel covered, last tile on the edge), cutting and stitching.</summary>
public sealed class ImageTilingTests
{
    [Theory]
    [InlineData("224", 224, 32)]
    [InlineData("320:64", 320, 64)]
    [InlineData(" 128:0 ", 128, 0)]
    [InlineData("32", 32, 16)] // small tiles: the default overlap is at most half the tile
    public void ParsesSizeAndOverlap(string text, int size, int overlap)
    {
        var t = ImageTiling.Parse(text);
        Assert.Equal((size, overlap), (t.Size, t.Overlap));
    }

    [Theory]
    [InlineData("100", "multiple of 8")]
    [InlineData("24", "at least 32")]
    [InlineData("224:224", "smaller than the tile size")]
    [InlineData("224:300", "smaller than the tile size")]
    [InlineData("abc", "SIZE or SIZE:OVERLAP")]
    [InlineData("224:-8", "SIZE or SIZE:OVERLAP")]
    [InlineData("", "SIZE or SIZE:OVERLAP")]
    public void RefusesBadTilesNamingTheProblem(string text, string expected)
    {
        var ex = Assert.Throws<PatchCoreException>(() => ImageTiling.Parse(text));
        Assert.Contains("--tile", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData(1130, 460, 224, 32)]
    [InlineData(256, 320, 128, 32)]
    [InlineData(500, 1260, 320, 0)]
    [InlineData(300, 200, 96, 40)]
    public void LayoutCoversEveryPixelWithTheLastTileOnTheEdge(int width, int height, int size, int overlap)
    {
        var layout = new ImageTiling { Size = size, Overlap = overlap }.Layout(width, height);
        Assert.Equal((size, size), (layout.TileWidth, layout.TileHeight));
        var covered = new int[width * height];
        foreach (var (x, y) in layout.Origins)
        {
            Assert.InRange(x, 0, width - size);
            Assert.InRange(y, 0, height - size);
            for (int j = y; j < y + size; j++)
                for (int i = x; i < x + size; i++) covered[j * width + i]++;
        }
        Assert.DoesNotContain(0, covered);
        Assert.Equal(width - size, layout.Origins.Max(o => o.X));
        Assert.Equal(height - size, layout.Origins.Max(o => o.Y));
        // neighbours share at least the overlap: consecutive starts are at most size - overlap apart
        foreach (var starts in new[] { layout.Origins.Select(o => o.X).Distinct().Order().ToArray(), layout.Origins.Select(o => o.Y).Distinct().Order().ToArray() })
            for (int i = 1; i < starts.Length; i++) Assert.InRange(starts[i] - starts[i - 1], 1, size - overlap);
    }

    [Fact]
    public void ASideNoLongerThanATileIsOneTileOfItsOwnLength()
    {
        var whole = new ImageTiling { Size = 512 }.Layout(288, 256);
        Assert.Equal((288, 256, 1), (whole.TileWidth, whole.TileHeight, whole.Count));
        var strip = new ImageTiling { Size = 128, Overlap = 0 }.Layout(512, 96);
        Assert.Equal((128, 96), (strip.TileWidth, strip.TileHeight));
        Assert.Equal([(0, 0), (128, 0), (256, 0), (384, 0)], strip.Origins);
    }

    [Fact]
    public void CutGivesEachImagesTilesInOrderAndStitchTakesTheLargestWhereTilesOverlap()
    {
        var layout = new ImageTiling { Size = 32, Overlap = 8 }.Layout(56, 40);
        Assert.Equal([(0, 0), (24, 0), (0, 8), (24, 8)], layout.Origins);
        using var scope = NewDisposeScope();
        // [2, 1, 40, 56]: pixel value = image * 10000 + y * 100 + x
        var values = new float[2 * 40 * 56];
        for (int b = 0; b < 2; b++)
            for (int y = 0; y < 40; y++)
                for (int x = 0; x < 56; x++) values[(b * 40 + y) * 56 + x] = b * 10000 + y * 100 + x;
        var tiles = layout.Cut(tensor(values, [2, 1, 40, 56]));
        Assert.Equal([8L, 1, 32, 32], tiles.shape);
        // tile 3 of image 1 starts at (24, 8)
        Assert.Equal(10000 + 8 * 100 + 24, tiles[1 * 4 + 3, 0, 0, 0].item<float>());
        Assert.Equal(10000 + 39 * 100 + 55, tiles[1 * 4 + 3, 0, 31, 31].item<float>());

        // stitching the cut tiles of one image gives the image back; where tiles overlap, the largest value wins
        float[][] own = tiles[TensorIndex.Slice(4, 8)].contiguous().data<float>().ToArray().Chunk(32 * 32).ToArray();
        Assert.Equal(values.AsSpan(40 * 56).ToArray(), layout.Stitch(own));
        var maps = new float[4][];
        for (int t = 0; t < 4; t++) { maps[t] = new float[32 * 32]; maps[t].AsSpan().Fill(t); }
        float[] stitched = layout.Stitch(maps);
        Assert.Equal(0f, stitched[0]);                 // only tile 0
        Assert.Equal(1f, stitched[30]);                // tiles 0 and 1 overlap in x 24..31
        Assert.Equal(2f, stitched[39 * 56]);           // only tile 2 (bottom left)
        Assert.Equal(3f, stitched[20 * 56 + 28]);      // all four overlap
    }

    [Fact]
    public void InspectedCellsOfATiledImageAreEachTilesCellsInOrder()
    {
        var layout = new ImageTiling { Size = 32, Overlap = 16 }.Layout(48, 32);
        // the left 16 columns inspected
        var pixels = new bool[48 * 32];
        for (int y = 0; y < 32; y++) for (int x = 0; x < 16; x++) pixels[y * 48 + x] = true;
        using var e = EmbeddedBatch.Of([], 1, 4, 4, 1, layout);
        bool[] cells = e.InspectedCells(pixels, 48, 32);
        Assert.Equal(2 * 16, cells.Length);
        // tile 0 (x 0..31): its left two cell columns; tile 1 (x 16..47): none
        Assert.Equal(8, cells.Take(16).Count(c => c));
        Assert.True(cells[0] && cells[1] && !cells[2]);
        Assert.DoesNotContain(true, cells.Skip(16));
    }

    [Theory]
    [InlineData("256", "224", "224", "cannot be combined with --crop 224")]
    [InlineData("native", "224", null, "--crop none")]
    [InlineData("nativ", "none", null, "WxH or native")]
    public void GeometryRefusesTilesOrNativeWithACrop(string resize, string crop, string? tile, string expected)
    {
        var ex = Assert.Throws<PatchCoreException>(() => ImageGeometry.Parse(resize, crop, tile));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void NativeGeometryKeepsEachImagesSizeAndTilesShowInItsText()
    {
        var g = ImageGeometry.Parse("native", "none", "224:16");
        Assert.Equal((1130, 460), g.InputSize(1130, 460));
        Assert.Equal((224, 224), g.NominalBackboneInput());
        Assert.Equal("resize native, crop none, tile 224:16", g.ToString());
        Assert.Equal("resize 256, crop 224", ImageGeometry.Default.ToString());
    }
}
