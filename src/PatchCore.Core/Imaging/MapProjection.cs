namespace PatchCore.Core.Imaging;

/// <summary>Maps a per-pixel map at model-input geometry back onto the original image's pixels.</summary>
internal static class MapProjection
{
    /// <summary>
    /// Bilinear resampling of <paramref name="inputMap"/> ([InputHeight, InputWidth]) onto the original image
    /// ([Height, Width]) into <paramref name="result"/> (at least Width x Height values); pixels that fall outside the
    /// centre crop get NaN (not seen by the model).
    /// </summary>
    public static void ToOriginal(DecodedImage image, ReadOnlySpan<float> inputMap, Span<float> result)
    {
        int iw = image.InputWidth, ih = image.InputHeight;
        if (inputMap.Length != iw * ih)
            throw new ArgumentException($"Map has {inputMap.Length} values, expected {iw}x{ih}.", nameof(inputMap));
        int w = image.Width, h = image.Height;
        if (result.Length < w * h)
            throw new ArgumentException($"The destination holds {result.Length} values, {w}x{h} are needed.", nameof(result));
        double sx = (double)image.ResizedWidth / w, sy = (double)image.ResizedHeight / h;
        for (int y = 0; y < h; y++)
        {
            // centre of the original pixel, in input-map coordinates
            double yc = (y + 0.5) * sy - 0.5 - image.CropTop;
            for (int x = 0; x < w; x++)
            {
                double xc = (x + 0.5) * sx - 0.5 - image.CropLeft;
                result[y * w + x] = Sample(inputMap, iw, ih, xc, yc);
            }
        }
    }

    /// <summary>
    /// The model-input pixel (row-major index) whose area holds the centre of original pixel (x, y), nearest
    /// neighbour; -1 when it falls outside the crop (the model did not see it).
    /// </summary>
    public static int NearestInputIndex(DecodedImage image, int x, int y)
    {
        int xi = (int)Math.Floor((x + 0.5) * image.ResizedWidth / image.Width) - image.CropLeft;
        int yi = (int)Math.Floor((y + 0.5) * image.ResizedHeight / image.Height) - image.CropTop;
        return (uint)xi < (uint)image.InputWidth && (uint)yi < (uint)image.InputHeight ? yi * image.InputWidth + xi : -1;
    }

    private static float Sample(ReadOnlySpan<float> map, int w, int h, double x, double y)
    {
        if (x < -0.5 || y < -0.5 || x > w - 0.5 || y > h - 0.5) return float.NaN;
        x = Math.Clamp(x, 0, w - 1);
        y = Math.Clamp(y, 0, h - 1);
        int x0 = (int)x, y0 = (int)y;
        int x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
        double fx = x - x0, fy = y - y0;
        double top = map[y0 * w + x0] * (1 - fx) + map[y0 * w + x1] * fx;
        double bottom = map[y1 * w + x0] * (1 - fx) + map[y1 * w + x1] * fx;
        return (float)(top * (1 - fy) + bottom * fy);
    }
}
