namespace PatchCore.Core.Scoring;

/// <summary>Per-pixel anomaly scores at model-input geometry, row-major [Height, Width].</summary>
public sealed record AnomalyMap(int Width, int Height, float[] Values)
{
    public float Max => Values.Length == 0 ? 0 : Values.Max();
}
