namespace PatchCore.Inspection.Observability;

/// <summary>What the daemon's instruments add up to since its start: the numbers of health.json and the status line.</summary>
/// <param name="MsPerImage">Mean batch wall time per file taken (checks, scoring, heatmap, record, move).</param>
/// <param name="ProcessedByProduct">Images recorded per product ("" for files of no product).</param>
internal sealed record InspectionTotals(long Ok, long Review, long Ng, long Quarantined, int Backlog, double MsPerImage, long Errors,
    IReadOnlyDictionary<string, long> ProcessedByProduct)
{
    public long Processed => Ok + Review + Ng + Quarantined;
}
