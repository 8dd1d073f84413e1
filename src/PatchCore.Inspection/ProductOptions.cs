namespace PatchCore.Inspection;

/// <summary>
/// One named product under <c>Inspection:Products:&lt;name&gt;</c>: its bank and the settings that override the
/// top-level ones for its images (each null one takes the top-level setting, and that the bank's).
/// </summary>
internal sealed class ProductOptions
{
    /// <summary>Memory bank file of the product (required); replaced atomically to hot-reload.</summary>
    public string Bank { get; set; } = "";

    public double? Threshold { get; set; }
    public double? ReviewThreshold { get; set; }
    public bool? ReviewBand { get; set; }
    public double? PixelThreshold { get; set; }
    public long? MinRegionArea { get; set; }
    public double? MmPerPixel { get; set; }

    public string BankPath => Path.GetFullPath(Bank);
}
