using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace PatchCore.Core.Imaging;

/// <summary>
/// The part of every image that is inspected: a mask of any size, white = inspect, black = ignore (stamped serial
/// numbers, labels, fixtures). It is stretched over each image's original frame and follows the bank's resize and
/// crop, so one mask serves images of any size. It travels in the bank file (as a PNG). Ignored patches never enter
/// the bank, never score and never form a region; overlays show them as ignored.
/// </summary>
public sealed class RegionOfInterest
{
    private bool[]? _mask;
    private readonly ConcurrentDictionary<(int, int, int, int, int, int), bool[]> _byGeometry = new();

    /// <summary>Mask width and height in pixels.</summary>
    public required int Width { get; init; }
    public required int Height { get; init; }
    /// <summary>The mask as an 8-bit grayscale PNG (255 = inspect, 0 = ignore).</summary>
    public required byte[] Png { get; init; }

    /// <summary>Share of the mask's pixels that are inspected.</summary>
    [JsonIgnore]
    public double InspectedShare => Mask.Count(m => m) / (double)Mask.Length;

    /// <summary>Reads a mask image (PNG, BMP, TIFF, JPEG; a pixel is inspected when its luminance is over 127).</summary>
    /// <exception cref="ImageLoadException">The file is missing, not an image, or ignores every pixel.</exception>
    public static RegionOfInterest Load(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ImageLoadException(path, "region-of-interest mask not found", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageLoadException(path, $"cannot read the region-of-interest mask: {e.Message}", e);
        }
        using var rgb = ImageDecoder.LoadRgb(path, bytes, ImageDecoder.DefaultMaxPixels);
        using var gray = rgb.CloneAs<L8>();
        var pixels = new byte[gray.Width * gray.Height];
        gray.CopyPixelDataTo(pixels);
        int inspected = 0;
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = pixels[i] > 127 ? (byte)255 : (byte)0;
            if (pixels[i] != 0) inspected++;
        }
        if (inspected == 0)
            throw new ImageLoadException(path, "the region-of-interest mask is black everywhere: it would ignore the whole image (white = inspect, black = ignore)");
        using var binary = Image.LoadPixelData<L8>(pixels, gray.Width, gray.Height);
        using var png = new MemoryStream();
        binary.SaveAsPng(png);
        return new RegionOfInterest { Width = gray.Width, Height = gray.Height, Png = png.ToArray() };
    }

    private bool[] Mask => _mask ??= Decode();

    /// <summary>True when both masks inspect exactly the same pixels (same size, same white and black).</summary>
    public bool SameMask(RegionOfInterest other) =>
        Width == other.Width && Height == other.Height && Mask.AsSpan().SequenceEqual(other.Mask);

    private bool[] Decode()
    {
        using var image = Image.Load<L8>(Png);
        if (image.Width != Width || image.Height != Height)
            throw new PatchCoreException($"The bank's region-of-interest mask is {image.Width}x{image.Height}, its record says {Width}x{Height}.");
        var pixels = new byte[Width * Height];
        image.CopyPixelDataTo(pixels);
        return pixels.Select(p => p > 127).ToArray();
    }

    /// <summary>
    /// Which model-input pixels of <paramref name="image"/> are inspected, row-major [InputHeight, InputWidth]: the
    /// mask stretched over the original image, then resized and cropped as the image was (nearest neighbour).
    /// </summary>
    public bool[] InspectedPixels(DecodedImage image) =>
        _byGeometry.GetOrAdd((image.InputWidth, image.InputHeight, image.ResizedWidth, image.ResizedHeight, image.CropLeft, image.CropTop), _ =>
        {
            var mask = Mask;
            var result = new bool[image.InputWidth * image.InputHeight];
            for (int y = 0; y < image.InputHeight; y++)
            {
                // centre of the resized pixel, as a share of the resized height, in mask rows
                int my = Math.Min(Height - 1, (int)((y + image.CropTop + 0.5) * Height / image.ResizedHeight));
                for (int x = 0; x < image.InputWidth; x++)
                {
                    int mx = Math.Min(Width - 1, (int)((x + image.CropLeft + 0.5) * Width / image.ResizedWidth));
                    result[y * image.InputWidth + x] = mask[my * Width + mx];
                }
            }
            return result;
        });

    /// <summary>
    /// Which cells of a feature grid [gridHeight, gridWidth] over <paramref name="inspectedPixels"/> are inspected: a
    /// cell is when at least half of its model-input pixels are.
    /// </summary>
    public static bool[] InspectedCells(bool[] inspectedPixels, int inputWidth, int inputHeight, int gridWidth, int gridHeight)
    {
        var cells = new bool[gridWidth * gridHeight];
        for (int gy = 0; gy < gridHeight; gy++)
        {
            int y0 = gy * inputHeight / gridHeight, y1 = (gy + 1) * inputHeight / gridHeight;
            for (int gx = 0; gx < gridWidth; gx++)
            {
                int x0 = gx * inputWidth / gridWidth, x1 = (gx + 1) * inputWidth / gridWidth;
                int inside = 0, all = 0;
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++, all++)
                        if (inspectedPixels[y * inputWidth + x]) inside++;
                cells[gy * gridWidth + gx] = all > 0 && 2 * inside >= all;
            }
        }
        return cells;
    }
}
