using PatchCore.Core.Imaging;

namespace PatchCore.Core.Scoring;

/// <summary>
/// Defect regions of an anomaly map: the pixels at or above the pixel threshold, grouped into 8-connected components
/// on the map's own grid (model input), then expressed in the original image's pixels through the image's resize and
/// crop. The map is what the model saw: a region is measured at its resolution and scaled, not re-thresholded on an
/// upsampled copy (which would cost the original's pixel count in memory for no new information).
/// </summary>
internal static class RegionFinder
{
    /// <summary>Side of one feature-grid cell in model-input pixels (layer2 of every supported ResNet has stride 8).</summary>
    public const int CellSize = 8;

    /// <param name="map">The image's anomaly map [InputHeight, InputWidth].</param>
    /// <param name="inspected">Model-input pixels that are inspected (the bank's region of interest); null = all.</param>
    /// <returns>
    /// Regions of at least the minimum area, highest peak first, and their pixels on the model-input grid
    /// (1 = in a reported region), from which the defect mask is drawn.
    /// </returns>
    public static (IReadOnlyList<DefectRegion> Regions, byte[] Pixels) Find(ReadOnlySpan<float> map, DecodedImage image, double pixelThreshold, RegionOptions options, bool[]? inspected = null)
    {
        int w = image.InputWidth, h = image.InputHeight;
        if (map.Length != w * h)
            throw new ArgumentException($"The map holds {map.Length} values, the image's model input is {w}x{h}.", nameof(map));
        if (inspected is not null && inspected.Length != map.Length)
            throw new ArgumentException($"The inspected mask holds {inspected.Length} values for a {w}x{h} map.", nameof(inspected));
        var above = new byte[map.Length];
        bool any = false;
        for (int i = 0; i < map.Length; i++)
            if (map[i] >= pixelThreshold && (inspected is null || inspected[i])) { above[i] = 1; any = true; }
        if (!any) return ([], above);

        var labels = new int[map.Length];
        var sizes = ConnectedComponents.Label(above, w, labels);
        var stats = new Component[sizes.Count];
        for (int c = 0; c < stats.Length; c++) stats[c] = new Component(w, h);
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] > 0) stats[labels[i] - 1].Add(i % w, i / w, map[i], i);

        // original pixels per model-input pixel, along each axis
        double sx = (double)image.Width / image.ResizedWidth, sy = (double)image.Height / image.ResizedHeight;
        long minArea = options.MinArea ?? Math.Max(1, (long)Math.Round(CellSize * CellSize * sx * sy));
        var regions = new List<DefectRegion>();
        var kept = new bool[stats.Length];
        for (int k = 0; k < stats.Length; k++)
        {
            var c = stats[k];
            long area = Math.Max(1, (long)Math.Round(c.Count * sx * sy));
            if (area < minArea) continue;
            kept[k] = true;
            int left = Math.Clamp((int)Math.Floor((c.MinX + image.CropLeft) * sx), 0, image.Width - 1);
            int top = Math.Clamp((int)Math.Floor((c.MinY + image.CropTop) * sy), 0, image.Height - 1);
            int right = Math.Clamp((int)Math.Ceiling((c.MaxX + 1 + image.CropLeft) * sx), left + 1, image.Width);
            int bottom = Math.Clamp((int)Math.Ceiling((c.MaxY + 1 + image.CropTop) * sy), top + 1, image.Height);
            int peakX = Math.Clamp((int)((c.PeakAt % w + 0.5 + image.CropLeft) * sx), 0, image.Width - 1);
            int peakY = Math.Clamp((int)((c.PeakAt / w + 0.5 + image.CropTop) * sy), 0, image.Height - 1);
            var region = new DefectRegion(left, top, right - left, bottom - top, area, c.Peak, peakX, peakY, c.Sum / c.Count);
            if (options.MmPerPixel is double mm)
                region = region with { XMm = left * mm, YMm = top * mm, WidthMm = (right - left) * mm, HeightMm = (bottom - top) * mm, AreaMm2 = area * mm * mm };
            regions.Add(region);
        }
        for (int i = 0; i < labels.Length; i++) above[i] = labels[i] > 0 && kept[labels[i] - 1] ? (byte)1 : (byte)0;
        return (regions.OrderByDescending(r => r.Peak).ToArray(), above);
    }

    /// <summary>Running statistics of one component on the model-input grid.</summary>
    private sealed class Component(int width, int height)
    {
        public int MinX = width, MinY = height, MaxX = -1, MaxY = -1, Count, PeakAt;
        public double Sum, Peak = double.NegativeInfinity;

        public void Add(int x, int y, float value, int index)
        {
            if (x < MinX) MinX = x;
            if (x > MaxX) MaxX = x;
            if (y < MinY) MinY = y;
            if (y > MaxY) MaxY = y;
            Count++;
            Sum += value;
            if (value > Peak) { Peak = value; PeakAt = index; }
        }
    }
}
