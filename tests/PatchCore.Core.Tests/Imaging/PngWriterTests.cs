using PatchCore.Core.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace PatchCore.Core.Tests.Imaging;

public class PngWriterTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    [InlineData(257, 31)]
    [InlineData(64, 64)]
    public void RgbImagesReadBackPixelForPixel(int width, int height)
    {
        var random = new Random(width * 7 + height);
        using var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = new Rgb24((byte)random.Next(256), (byte)(x * 3 + y), (byte)random.Next(256));
        using var png = new MemoryStream();
        PngWriter.Write(image, png);

        png.Position = 0;
        using var back = Image.Load<Rgb24>(png, out var format);
        Assert.Equal("PNG", format.Name);
        Assert.Equal((width, height), (back.Width, back.Height));
        Assert.Equal(24, back.PixelType.BitsPerPixel);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                Assert.Equal(image[x, y], back[x, y]);
    }

    [Fact]
    public void GreyMasksAreOneChannelAndReadBackPixelForPixel()
    {
        using var mask = new Image<L8>(45, 17);
        for (int y = 3; y < 9; y++)
            for (int x = 10; x < 40; x++)
                mask[x, y] = new L8(255);
        string path = Path.Combine(Path.GetTempPath(), $"pngwriter-{Guid.NewGuid():N}.png");
        try
        {
            PngWriter.Write(mask, path);
            var info = Image.Identify(path);
            Assert.Equal(8, info.PixelType.BitsPerPixel);
            using var back = Image.Load<L8>(path);
            for (int y = 0; y < mask.Height; y++)
                for (int x = 0; x < mask.Width; x++)
                    Assert.Equal(mask[x, y], back[x, y]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TheDecoderChecksTheChunksCrcSoTheRoundTripsAboveVouchForThem()
    {
        using var image = new Image<Rgb24>(8, 8);
        using var png = new MemoryStream();
        PngWriter.Write(image, png);
        byte[] bytes = png.ToArray();
        bytes[8 + 4 + 4 + 13] ^= 0xFF; // the first byte of IHDR's CRC (after the signature, length, type and 13-byte body)
        Assert.ThrowsAny<Exception>(() => Image.Load<Rgb24>(bytes));
        bytes[8 + 4 + 4 + 13] ^= 0xFF;
        using var fine = Image.Load<Rgb24>(bytes);
        Assert.Equal(8, fine.Width);
    }
}
