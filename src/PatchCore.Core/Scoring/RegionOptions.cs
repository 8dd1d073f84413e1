namespace PatchCore.Core.Scoring;

/// <summary>How defect regions are reported.</summary>
public sealed record RegionOptions
{
    /// <summary>
    /// Regions smaller than this many original-image pixels are dropped as specks. Null: one cell of the feature
    /// grid (8 x 8 model-input pixels, the map's own resolution) in the image's original pixels.
    /// </summary>
    public long? MinArea { get; init; }

    /// <summary>Millimetres per original-image pixel; when set, regions also carry their box and area in mm.</summary>
    public double? MmPerPixel { get; init; }

    public void Validate()
    {
        if (MinArea is < 1) throw new PatchCoreException($"The minimum region area must be at least 1 pixel, got {MinArea}.");
        if (MmPerPixel is double mm && !(double.IsFinite(mm) && mm > 0)) throw new PatchCoreException($"Millimetres per pixel must be a positive number, got {mm}.");
    }
}
