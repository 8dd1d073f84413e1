using PatchCore.Core.Backbones;
using PatchCore.Core.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace PatchCore.Core.Tests.Imaging;

public sealed class ImageDecoderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pc-decoder-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, Action<string> writer)
    {
        string path = Path.Combine(_dir, name);
        writer(path);
        return path;
    }

    [Fact]
    public void ZeroByteFileNamesTheFileAndSaysEmpty()
    {
        string path = Write("empty.png", p => File.WriteAllBytes(p, []));
        var ex = Assert.Throws<ImageLoadException>(() => new ImageDecoder(ImageGeometry.Default).Decode(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("empty", ex.Reason);
    }

    [Fact]
    public void TextFileIsNotAnImage()
    {
        string path = Write("notes.png", p => File.WriteAllText(p, "this is not an image at all"));
        var ex = Assert.Throws<ImageLoadException>(() => new ImageDecoder(ImageGeometry.Default).Decode(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("image", ex.Reason);
    }

    [Theory]
    [InlineData("png")]
    [InlineData("jpg")]
    public void TruncatedFileIsRefused(string ext)
    {
        string full = Write("full." + ext, p =>
        {
            using var img = new Image<Rgb24>(300, 300);
            for (int y = 0; y < 300; y++) for (int x = 0; x < 300; x++) img[x, y] = new Rgb24((byte)x, (byte)y, (byte)(x ^ y));
            img.Save(p);
        });
        byte[] bytes = File.ReadAllBytes(full);
        string cut = Write("cut." + ext, p => File.WriteAllBytes(p, bytes.AsSpan(0, bytes.Length / 2).ToArray()));
        var ex = Assert.Throws<ImageLoadException>(() => new ImageDecoder(ImageGeometry.Default).Decode(cut));
        Assert.Contains(cut, ex.Message);
        Assert.Contains("truncated", ex.Reason);
        // the intact file decodes
        using var ok = new ImageDecoder(ImageGeometry.Default).Decode(full);
        Assert.Equal(224, ok.InputWidth);
    }

    [Fact]
    public void OversizedImageIsRefusedBeforeDecoding()
    {
        string path = Write("big.png", p => { using var img = new Image<Rgb24>(400, 300); img.SaveAsPng(p); });
        var ex = Assert.Throws<ImageLoadException>(() => new ImageDecoder(ImageGeometry.Default, maxPixels: 100_000).Decode(path));
        Assert.Contains("over the limit", ex.Reason);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        string path = Path.Combine(_dir, "nope.png");
        var ex = Assert.Throws<ImageLoadException>(() => new ImageDecoder(ImageGeometry.Default).Decode(path));
        Assert.Contains("not found", ex.Reason);
    }

    [Fact]
    public void GrayscaleSixteenBitAndAlphaBecomeRgb()
    {
        string gray = Write("gray16.png", p =>
        {
            using var img = new Image<L16>(64, 48);
            img[10, 20] = new L16(65535);
            img.SaveAsPng(p);
        });
        string rgba = Write("alpha.png", p =>
        {
            using var img = new Image<Rgba32>(64, 48);
            img[5, 5] = new Rgba32(10, 20, 30, 0);
            img.SaveAsPng(p);
        });
        var decoder = new ImageDecoder(new ImageGeometry { Width = 64, Height = 48 });
        using var g = decoder.Decode(gray);
        int i = (20 * 64 + 10) * 3;
        Assert.Equal(new byte[] { 255, 255, 255 }, g.InputRgb[i..(i + 3)]);
        using var a = decoder.Decode(rgba);
        int j = (5 * 64 + 5) * 3;
        Assert.Equal(new byte[] { 10, 20, 30 }, a.InputRgb[j..(j + 3)]);
    }

    [Fact]
    public void ResizeShorterSideThenCentreCropPutsAKnownPixelWhereExpected()
    {
        // 512x512 -> 256x256 (factor 2) -> crop 224 at offset 16. A 2x2 red block at (100,60) in the original lands
        // at (50,30) after resizing and (34,14) after cropping.
        string path = Write("dot.png", p =>
        {
            using var img = new Image<Rgb24>(512, 512, new Rgb24(0, 0, 0));
            for (int y = 60; y < 62; y++) for (int x = 100; x < 102; x++) img[x, y] = new Rgb24(255, 0, 0);
            img.SaveAsPng(p);
        });
        using var d = new ImageDecoder(ImageGeometry.Default).Decode(path);
        Assert.Equal((256, 256, 16, 16), (d.ResizedWidth, d.ResizedHeight, d.CropLeft, d.CropTop));
        int brightest = 0, best = -1;
        for (int k = 0; k < 224 * 224; k++) if (d.InputRgb[k * 3] > best) { best = d.InputRgb[k * 3]; brightest = k; }
        Assert.Equal((34, 14), (brightest % 224, brightest / 224));
        Assert.True(best > 100);
    }

    [Fact]
    public void ShorterSideFollowsTorchvisionRule()
    {
        var g = ImageGeometry.Parse("256", "none");
        Assert.Equal((256, 341), g.ResizedSize(300, 400));
        Assert.Equal((341, 256), g.ResizedSize(400, 300));
        var exact = ImageGeometry.Parse("320x160", "none");
        Assert.Equal((320, 160), exact.InputSize(1000, 37));
        Assert.Throws<PatchCoreException>(() => ImageGeometry.Parse("256", "300"));
        Assert.Throws<PatchCoreException>(() => ImageGeometry.Parse("abc", "224"));
    }

    [Fact]
    public void PreprocessingPutsChannelsInTheBackboneOrder()
    {
        byte[] rgb = [10, 20, 30];
        var chw = new float[3];
        InputTensor.Fill(rgb, Preprocessing.PackagedResNet18, chw, 1);
        // BGR minus means (B, G, R)
        Assert.Equal(30 - 103.063f, chw[0], 3);
        Assert.Equal(20 - 115.903f, chw[1], 3);
        Assert.Equal(10 - 123.152f, chw[2], 3);
        InputTensor.Fill(rgb, Preprocessing.TorchvisionImageNet, chw, 1);
        Assert.Equal((10 / 255f - 0.485f) / 0.229f, chw[0], 4);
        Assert.Equal((30 / 255f - 0.406f) / 0.225f, chw[2], 4);
    }

    [DataFact("magnetic_tile")]
    public void MaskFollowsTheImageGeometryWithNearestNeighbour()
    {
        string root = TestData.Require("magnetic_tile");
        string mask = Directory.GetFiles(Path.Combine(root, "ground_truth", "blowhole")).OrderBy(f => f, StringComparer.Ordinal).First();
        string image = Path.Combine(root, "test", "blowhole", Path.GetFileName(mask).Replace("_mask.png", "") + ".jpg");
        using var d = new ImageDecoder(ImageGeometry.Parse("256x256", "224")).Decode(image);
        bool[] m = MaskReader.Load(mask, d);
        Assert.Equal(224 * 224, m.Length);
        Assert.Contains(true, m);
        Assert.Contains(false, m);
    }
}
