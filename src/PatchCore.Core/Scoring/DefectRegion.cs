using System.Text.Json.Serialization;

namespace PatchCore.Core.Scoring;

/// <summary>
/// One connected region (8-connected) of the anomaly map at or above the pixel threshold, in the original image's
/// pixels: bounding box, area, peak score and where it is, mean score. The millimetre fields are set when the
/// station knows its scale (<see cref="RegionOptions.MmPerPixel"/>).
/// </summary>
public sealed record DefectRegion(int X, int Y, int Width, int Height, long Area, double Peak, int PeakX, int PeakY, double Mean)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? XMm { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? YMm { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? WidthMm { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? HeightMm { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? AreaMm2 { get; init; }
}
