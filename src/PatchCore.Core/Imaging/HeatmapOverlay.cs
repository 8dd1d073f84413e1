using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace PatchCore.Core.Imaging;

/// <summary>
/// Renders an anomaly map over its image: a jet colour scale alpha-blended onto the original pixels, so a person
/// sees where the model found something. Colours run from blue (at <c>low</c>) to red (at <c>high</c> and above);
/// below <c>low</c> the image shows through almost untouched.
/// </summary>
internal static class HeatmapOverlay
{
    /// <summary>
    /// Colour range of the overlay. With a threshold, blue starts at half the threshold and red is reached at the
    /// threshold, so a clean part stays mostly clear and a rejected one glows. Without one, the map's own range.
    /// </summary>
    public static (float Low, float High) ScaleFor(ReadOnlySpan<float> map, double? threshold)
    {
        if (threshold is double t && t > 0) return ((float)(0.5 * t), (float)t);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in map)
        {
            if (float.IsNaN(v)) continue;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        if (!float.IsFinite(min)) return (0, 1);
        return (min, max > min ? max : min + 1);
    }

    /// <summary>Renders at the original geometry (the image must have been decoded with keepOriginal).</summary>
    public static Image<Rgb24> Render(DecodedImage image, ReadOnlySpan<float> inputMap, double? threshold)
    {
        if (image.Original is null)
            return RenderOnInput(image, inputMap, threshold);
        float[] map = MapProjection.ToOriginal(image, inputMap);
        var (low, high) = ScaleFor(inputMap, threshold);
        var result = image.Original.Clone();
        Blend(result, map, low, high);
        return result;
    }

    /// <summary>Renders over the model-input pixels (used when the original was not kept).</summary>
    public static Image<Rgb24> RenderOnInput(DecodedImage image, ReadOnlySpan<float> inputMap, double? threshold)
    {
        var result = Image.LoadPixelData<Rgb24>(image.InputRgb, image.InputWidth, image.InputHeight);
        var (low, high) = ScaleFor(inputMap, threshold);
        Blend(result, inputMap.ToArray(), low, high);
        return result;
    }

    public static void WritePng(DecodedImage image, ReadOnlySpan<float> inputMap, double? threshold, string path)
    {
        using var overlay = Render(image, inputMap, threshold);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        overlay.SaveAsPng(path);
    }

    public static byte[] ToPngBytes(DecodedImage image, ReadOnlySpan<float> inputMap, double? threshold)
    {
        using var overlay = Render(image, inputMap, threshold);
        using var ms = new MemoryStream();
        overlay.SaveAsPng(ms);
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
                    var (r, g, b) = Jet(t);
                    // weak responses stay see-through, strong ones dominate
                    float alpha = 0.25f + 0.45f * t;
                    ref Rgb24 p = ref row[x];
                    p.R = (byte)(p.R * (1 - alpha) + r * alpha);
                    p.G = (byte)(p.G * (1 - alpha) + g * alpha);
                    p.B = (byte)(p.B * (1 - alpha) + b * alpha);
                }
            }
        });
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
