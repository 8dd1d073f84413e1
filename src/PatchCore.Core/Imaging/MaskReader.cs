using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace PatchCore.Core.Imaging;

/// <summary>Ground-truth masks brought to the model geometry of their image with centre-aligned nearest-neighbour resizing.</summary>
internal static class MaskReader
{
    /// <summary>
    /// Reads a mask (any supported format; a pixel is defect when its luminance is over 127) and returns it at the
    /// image's model-input geometry, row-major [InputHeight, InputWidth]. The mask must have the original image's size.
    /// </summary>
    public static bool[] Load(string maskPath, DecodedImage image)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(maskPath); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageLoadException(maskPath, $"cannot read mask: {ex.Message}", ex);
        }
        using Image<Rgb24> rgb = ImageDecoder.LoadRgb(maskPath, bytes, long.MaxValue);
        if (rgb.Width != image.Width || rgb.Height != image.Height)
            throw new ImageLoadException(maskPath, $"mask is {rgb.Width}x{rgb.Height} but its image {image.SourcePath} is {image.Width}x{image.Height}");
        using Image<L8> mask = rgb.CloneAs<L8>();
        var source = new byte[mask.Width * mask.Height];
        mask.CopyPixelDataTo(source);
        // Nearest neighbour at the centre of each resized pixel, as PIL and torchvision resize masks (and as the image
        // itself is resampled, centre-aligned). ImageSharp's NearestNeighbor takes the first source pixel of each
        // block instead, which shifts a downscaled mask up to half a pixel towards the top-left of its image and samples
        // thin defects at other places than the paper's evaluation does.
        var values = new byte[image.InputWidth * image.InputHeight];
        for (int y = 0; y < image.InputHeight; y++)
        {
            int sy = Math.Min(image.Height - 1, (int)((y + image.CropTop + 0.5) * image.Height / image.ResizedHeight));
            for (int x = 0; x < image.InputWidth; x++)
            {
                int sx = Math.Min(image.Width - 1, (int)((x + image.CropLeft + 0.5) * image.Width / image.ResizedWidth));
                values[y * image.InputWidth + x] = source[sy * image.Width + sx];
            }
        }
        var result = new bool[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i] > 127;
        return result;
    }
}
