using System.Buffers;
using PatchCore.Core.Scoring;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace PatchCore.Core.Imaging;

/// <summary>
/// Renders an anomaly map over its image: a jet colour scale alpha-blended onto the original pixels (or the model
/// input when the original was not kept), the defect regions as boxes, and the ignored part of the image (outside the
/// bank's region of interest) greyed and hatched, so a person sees where the model found something and where it
/// did not look. Drawing is by hand (a few loops): ImageSharp.Drawing would be a second package for rectangles.
/// </summary>
internal static class HeatmapOverlay
{
    /// <summary>What one overlay shows. <see cref="Scale"/> null: the map's own range.</summary>
    public sealed record Layers(DecodedImage Image, float[] Map, OverlayScale? Scale, IReadOnlyList<DefectRegion> Regions, bool[]? Inspected);

    public static Image<Rgb24> Render(Layers layers)
    {
        var image = layers.Image;
        var scale = layers.Scale ?? OverlayScale.Spanning([layers.Map]);
        Image<Rgb24> result;
        Func<int, int, int> inputIndex;
        if (image.Original is null)
        {
            result = Image.LoadPixelData<Rgb24>(image.InputRgb, image.InputWidth, image.InputHeight);
            Blend(result, layers.Map, scale.Low, scale.High);
            inputIndex = (x, y) => y * image.InputWidth + x;
        }
        else
        {
            result = image.Original.Clone();
            // the map at the original's size (a few MB per image) in a pooled buffer: a fresh array per overlay is
            // faulted in page by page, which on a virtual machine cost more than the blending itself
            float[] map = ArrayPool<float>.Shared.Rent(image.Width * image.Height);
            try
            {
                MapProjection.ToOriginal(image, layers.Map, map);
                Blend(result, map, scale.Low, scale.High);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(map);
            }
            inputIndex = (x, y) => MapProjection.NearestInputIndex(image, x, y);
        }
        if (layers.Inspected is { } inspected) Hatch(result, (x, y) => inputIndex(x, y) is int i && i >= 0 && !inspected[i]);
        foreach (var region in layers.Regions)
            DrawBox(result, image.Original is null ? ToInput(image, region) : (region.X, region.Y, region.Width, region.Height));
        return result;
    }

    public static void WritePng(Layers layers, string path)
    {
        using var overlay = Render(layers);
        PngWriter.Write(overlay, path);
    }

    public static byte[] ToPngBytes(Layers layers)
    {
        using var overlay = Render(layers);
        using var ms = new MemoryStream();
        PngWriter.Write(overlay, ms);
        return ms.ToArray();
    }

    private static void Blend(Image<Rgb24> target, float[] map, float low, float high)
    {
        int w = target.Width;
        target.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    float v = map[y * w + x];
                    if (float.IsNaN(v)) continue;
                    float t = Math.Clamp((v - low) / (high - low), 0f, 1f);
                    // below the calm end the part shows through untouched; above it the colour grows stronger
                    if (t <= 0f) continue;
                    var (r, g, b) = Jet(t);
                    float alpha = 0.25f + 0.45f * t;
                    ref Rgb24 p = ref row[x];
                    p.R = (byte)(p.R * (1 - alpha) + r * alpha);
                    p.G = (byte)(p.G * (1 - alpha) + g * alpha);
                    p.B = (byte)(p.B * (1 - alpha) + b * alpha);
                }
            }
        });
    }

    /// <summary>Ignored pixels: greyed, with dark diagonal stripes every 8 pixels.</summary>
    private static void Hatch(Image<Rgb24> target, Func<int, int, bool> ignored)
    {
        target.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    if (!ignored(x, y)) continue;
                    ref Rgb24 p = ref row[x];
                    byte grey = (byte)((p.R + p.G + p.B) / 6 + 64);
                    if ((x + y) % 8 < 2) grey /= 3;
                    p = new Rgb24(grey, grey, grey);
                }
            }
        });
    }

    /// <summary>A 2-pixel white box just outside the region, with a 1-pixel black outline around it: visible on any colour.</summary>
    private static void DrawBox(Image<Rgb24> target, (int X, int Y, int Width, int Height) box)
    {
        var black = new Rgb24(0, 0, 0);
        var white = new Rgb24(255, 255, 255);
        for (int d = 1; d <= 3; d++)
        {
            var colour = d == 3 ? black : white;
            int x0 = box.X - d, y0 = box.Y - d, x1 = box.X + box.Width - 1 + d, y1 = box.Y + box.Height - 1 + d;
            for (int x = x0; x <= x1; x++) { Set(target, x, y0, colour); Set(target, x, y1, colour); }
            for (int y = y0; y <= y1; y++) { Set(target, x0, y, colour); Set(target, x1, y, colour); }
        }
    }

    private static void Set(Image<Rgb24> target, int x, int y, Rgb24 colour)
    {
        if ((uint)x < (uint)target.Width && (uint)y < (uint)target.Height) target[x, y] = colour;
    }

    /// <summary>A region's box (original pixels) on the model input.</summary>
    private static (int, int, int, int) ToInput(DecodedImage image, DefectRegion region)
    {
        double fx = (double)image.ResizedWidth / image.Width, fy = (double)image.ResizedHeight / image.Height;
        int x0 = (int)Math.Floor(region.X * fx) - image.CropLeft, y0 = (int)Math.Floor(region.Y * fy) - image.CropTop;
        int x1 = (int)Math.Ceiling((region.X + region.Width) * fx) - image.CropLeft, y1 = (int)Math.Ceiling((region.Y + region.Height) * fy) - image.CropTop;
        return (x0, y0, Math.Max(1, x1 - x0), Math.Max(1, y1 - y0));
    }

    /// <summary>The classic jet colour scale: t = 0 dark blue, 0.5 green-yellow, 1 dark red.</summary>
    internal static (float R, float G, float B) Jet(float t)
    {
        float r = Math.Clamp(1.5f - Math.Abs(4f * t - 3f), 0f, 1f);
        float g = Math.Clamp(1.5f - Math.Abs(4f * t - 2f), 0f, 1f);
        float b = Math.Clamp(1.5f - Math.Abs(4f * t - 1f), 0f, 1f);
        return (r * 255f, g * 255f, b * 255f);
    }
}
