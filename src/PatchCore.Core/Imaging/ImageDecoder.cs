using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace PatchCore.Core.Imaging;

/// <summary>
/// Decodes PNG, JPEG, BMP, TIFF (8 or 16 bit, grayscale or colour, alpha dropped) with ImageSharp and brings the
/// image to model geometry: bilinear (triangle, antialiased like PIL) resize, then centre crop. Every failure is
/// an <see cref="ImageLoadException"/> naming the file and the reason. Thread-safe.
/// </summary>
internal sealed class ImageDecoder
{
    public const long DefaultMaxPixels = 50_000_000;

    public ImageDecoder(ImageGeometry geometry, long maxPixels = DefaultMaxPixels)
    {
        geometry.Validate();
        if (maxPixels <= 0) throw new ArgumentOutOfRangeException(nameof(maxPixels), "The pixel limit must be positive.");
        Geometry = geometry;
        MaxPixels = maxPixels;
    }

    public ImageGeometry Geometry { get; }
    public long MaxPixels { get; }

    /// <summary>Decodes a file. <paramref name="keepOriginal"/> keeps the original pixels for overlays.</summary>
    public DecodedImage Decode(string path, bool keepOriginal = false) => Decode(path, ReadFile(path), keepOriginal);

    /// <summary>The file's bytes; a file that cannot be read is an <see cref="ImageLoadException"/> naming it and why.</summary>
    public static byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (FileNotFoundException ex) { throw new ImageLoadException(path, "file not found", ex); }
        catch (DirectoryNotFoundException ex) { throw new ImageLoadException(path, "folder not found", ex); }
        catch (UnauthorizedAccessException ex) { throw new ImageLoadException(path, "permission denied", ex); }
        catch (IOException ex) { throw new ImageLoadException(path, $"cannot read file: {ex.Message}", ex); }
    }

    /// <summary>Decodes bytes that were read from <paramref name="path"/> (used in messages only).</summary>
    public DecodedImage Decode(string path, byte[] bytes, bool keepOriginal = false)
    {
        Image<Rgb24> image = LoadRgb(path, bytes, MaxPixels);
        try
        {
            int w = image.Width, h = image.Height;
            var (rw, rh) = Geometry.ResizedSize(w, h);
            var (left, top) = Geometry.CropOffset(rw, rh);
            var (iw, ih) = Geometry.InputSize(w, h);
            Image<Rgb24> work = keepOriginal ? image.Clone() : image;
            try
            {
                work.Mutate(ctx =>
                {
                    if (rw != w || rh != h)
                        ctx.Resize(new ResizeOptions { Size = new Size(rw, rh), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Triangle });
                    if (iw != rw || ih != rh)
                        ctx.Crop(new Rectangle(left, top, iw, ih));
                });
                byte[] rgb = new byte[iw * ih * 3];
                work.CopyPixelDataTo(rgb);
                var result = new DecodedImage(path, w, h, rw, rh, left, top, iw, ih, rgb, keepOriginal ? image : null);
                if (keepOriginal) image = null!; // ownership moved to the result
                return result;
            }
            finally
            {
                if (keepOriginal) work.Dispose();
            }
        }
        finally
        {
            image?.Dispose();
        }
    }

    /// <summary>Decodes any supported file into 8-bit RGB, checking size limits first. Used for images and masks.</summary>
    internal static Image<Rgb24> LoadRgb(string path, byte[] bytes, long maxPixels)
    {
        if (bytes.Length == 0) throw new ImageLoadException(path, "file is empty (0 bytes)");
        IImageInfo? info;
        try
        {
            info = Image.Identify(bytes, out IImageFormat? _);
        }
        catch (Exception ex) when (ex is ImageFormatException or NotSupportedException or InvalidOperationException or ArgumentException or IndexOutOfRangeException or EndOfStreamException)
        {
            throw new ImageLoadException(path, $"not a readable image ({ex.Message})", ex);
        }
        if (info is null)
            throw new ImageLoadException(path, "not an image in a supported format (PNG, JPEG, BMP, TIFF, GIF)");
        long pixels = (long)info.Width * info.Height;
        if (info.Width <= 0 || info.Height <= 0)
            throw new ImageLoadException(path, $"image has no pixels ({info.Width}x{info.Height})");
        if (pixels > maxPixels)
            throw new ImageLoadException(path, $"image is {info.Width}x{info.Height} = {pixels:N0} pixels, over the limit of {maxPixels:N0}");
        if (LooksTruncated(bytes))
            throw new ImageLoadException(path, "file is truncated (the image data ends before its end marker)");
        try
        {
            return Image.Load<Rgb24>(bytes);
        }
        catch (Exception ex) when (ex is ImageFormatException or NotSupportedException or InvalidOperationException or ArgumentException or IndexOutOfRangeException or EndOfStreamException or OutOfMemoryException)
        {
            throw new ImageLoadException(path, $"corrupt or truncated image ({ex.Message})", ex);
        }
    }

    /// <summary>
    /// ImageSharp decodes a truncated JPEG or PNG leniently (grey or black rows, no error). A file that ends before
    /// its format's end marker is refused here instead: JPEG must end with EOI (FF D9, trailing padding allowed),
    /// PNG must contain its IEND chunk.
    /// </summary>
    internal static bool LooksTruncated(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
        {
            int end = bytes.Length;
            while (end > 2 && (bytes[end - 1] == 0x00 || bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D || bytes[end - 1] == 0x20)) end--;
            // Some writers put a few bytes after EOI; look for it near the end.
            ReadOnlySpan<byte> tail = bytes[Math.Max(0, end - 64)..end];
            return tail.IndexOf(new byte[] { 0xFF, 0xD9 }) < 0;
        }
        if (bytes.Length >= 8 && bytes[0] == 0x89 && bytes[1] == (byte)'P' && bytes[2] == (byte)'N' && bytes[3] == (byte)'G')
        {
            ReadOnlySpan<byte> tail = bytes[Math.Max(0, bytes.Length - 64)..];
            return tail.IndexOf("IEND"u8) < 0;
        }
        return false;
    }
}
