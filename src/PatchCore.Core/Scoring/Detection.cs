namespace PatchCore.Core.Scoring;

/// <summary>
/// The result for one image: image score (max patch distance, optionally reweighted, or the bank's
/// <see cref="ImageScoreRule.Position"/> score), patch grid and map. With a
/// tiled geometry the grid is one tile's and <see cref="PatchScores"/> holds every tile's grid, one after another.
/// </summary>
public sealed record Detection(string SourcePath, double Score, int GridWidth, int GridHeight, float[] PatchScores, AnomalyMap Map)
{
    /// <summary>True when the score is at or above the threshold; null when there is no threshold.</summary>
    public bool? IsAnomalous(double? threshold) => threshold is double t ? Score >= t : null;
}
