using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;

namespace PatchCore.Core.Imaging;

/// <summary>
/// The colour scale of heatmap overlays: clear at and below <see cref="Low"/>, blue to red up to <see cref="High"/>,
/// dark red above. One scale per bank, anchored at its calibration, so every overlay of a bank means the same: calm
/// colours on a good part, hot ones only where the map passes the pixel threshold (where regions are).
/// </summary>
public sealed record OverlayScale(float Low, float High)
{
    /// <summary>
    /// The bank's scale: from the median held-out good pixel (a typical good level) to the pixel threshold. A bank
    /// calibrated before pixel thresholds existed: from half the ng threshold to the ng threshold. Null when the
    /// bank has neither: each overlay then uses its own map's range.
    /// </summary>
    public static OverlayScale? ForBank(Calibration calibration, Thresholds thresholds)
    {
        if (thresholds.Pixel is double pixel && pixel > 0)
        {
            double low = calibration.PixelMedian is double median && median < pixel ? median : 0.5 * pixel;
            return new OverlayScale((float)low, (float)pixel);
        }
        if (thresholds.Ng is double ng && ng > 0) return new OverlayScale((float)(0.5 * ng), (float)ng);
        return null;
    }

    /// <summary>One scale spanning all of <paramref name="maps"/>' values (for overlays that have no bank scale but must compare).</summary>
    public static OverlayScale Spanning(IEnumerable<float[]> maps)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var map in maps)
            foreach (float v in map)
            {
                if (float.IsNaN(v)) continue;
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
        if (!float.IsFinite(min)) return new OverlayScale(0, 1);
        return new OverlayScale(min, max > min ? max : min + 1);
    }
}
