using PatchCore.Core.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace PatchCore.Core.Tests.Imaging;

public sealed class MaskReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pc-mask-").FullName;

    [Fact]
    public void ADownscaledMaskSamplesTheCentreOfEachBlockAsPilDoes()
    {
        // 10x10 mask, one white column at x = 2 and one white row at y = 7; downscaled 5x to 2x2: the centre samples are
        // 2 and 7 (PIL, torchvision), where a top-left sampler would read 0 and 5 and miss both lines.
        string path = Path.Combine(_dir, "thin_mask.png");
        using (var mask = new Image<L8>(10, 10))
        {
            for (int y = 0; y < 10; y++) mask[2, y] = new L8(255);
            for (int x = 0; x < 10; x++) mask[x, 7] = new L8(255);
            mask.SaveAsPng(path);
        }
        var image = new DecodedImage("thin.png", 10, 10, 2, 2, 0, 0, 2, 2, new byte[2 * 2 * 3], null);
        Assert.Equal([true, false, true, true], MaskReader.Load(path, image));
    }

    [Fact]
    public void TheCropIsTheImagesCrop()
    {
        // 8x4 mask, white right half; resized 1:1 and cropped to 4x4 at x 2: columns 2..5, so 2 black and 2 white per row
        string path = Path.Combine(_dir, "half_mask.png");
        using (var mask = new Image<L8>(8, 4))
        {
            for (int y = 0; y < 4; y++) for (int x = 4; x < 8; x++) mask[x, y] = new L8(255);
            mask.SaveAsPng(path);
        }
        var image = new DecodedImage("half.png", 8, 4, 8, 4, 2, 0, 4, 4, new byte[4 * 4 * 3], null);
        var m = MaskReader.Load(path, image);
        Assert.All(Enumerable.Range(0, 4), y => Assert.Equal([false, false, true, true], m.Skip(y * 4).Take(4)));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
