using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace PatchCore.Core.Imaging;

/// <summary>Ground-truth masks brought to the model geometry of their image with nearest-neighbour resizing.</summary>
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
        mask.Mutate(ctx =>
        {
            if (image.ResizedWidth != image.Width || image.ResizedHeight != image.Height)
                ctx.Resize(new ResizeOptions { Size = new Size(image.ResizedWidth, image.ResizedHeight), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.NearestNeighbor });
            if (image.InputWidth != image.ResizedWidth || image.InputHeight != image.ResizedHeight)
                ctx.Crop(new Rectangle(image.CropLeft, image.CropTop, image.InputWidth, image.InputHeight));
        });
        var values = new byte[image.InputWidth * image.InputHeight];
        mask.CopyPixelDataTo(values);
        var result = new bool[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i] > 127;
        return result;
    }
}
