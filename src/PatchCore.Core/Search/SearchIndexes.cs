namespace PatchCore.Core.Search;

/// <summary>
/// The index that scores patches and, for an approximate search whose distances are true distances, the exact one
/// that makes image maxima exact (<see cref="Scoring.AnomalyScorer.RefineImageMaxima"/>). Owns both.
/// </summary>
internal sealed record SearchIndexes(INearestNeighbourIndex Index, INearestNeighbourIndex? ExactForMaxima = null) : IDisposable
{
    public void Dispose()
    {
        Index.Dispose();
        ExactForMaxima?.Dispose();
    }
}
