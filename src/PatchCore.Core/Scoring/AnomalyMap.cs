namespace PatchCore.Core.Scoring;

/// <summary>Per-pixel anomaly scores at model-input geometry, row-major [Height, Width].</summary>
public sealed record AnomalyMap(int Width, int Height, float[] Values)
{
    public float Max => Values.Length == 0 ? 0 : Values.Max();
}

/// <summary>The result for one image: image score (max patch distance, optionally reweighted), patch grid and map.</summary>
public sealed record Detection(string SourcePath, double Score, int GridWidth, int GridHeight, float[] PatchScores, AnomalyMap Map)
{
    /// <summary>True when the score is at or above the threshold; null when there is no threshold.</summary>
    public bool? IsAnomalous(double? threshold) => threshold is double t ? Score >= t : null;
}
