namespace PatchCore.Core.Scoring;

public sealed record ScoringOptions
{
    /// <summary>Neighbours per patch; the patch score is the mean Euclidean distance to them.</summary>
    public int NeighbourCount { get; init; } = 1;
    /// <summary>Use the paper's Eq. 7 reweighting of the image score.</summary>
    public bool Reweight { get; init; }
    /// <summary>b in Eq. 7: neighbours of the nearest bank vector considered.</summary>
    public int ReweightNeighbours { get; init; } = 9;
    /// <summary>Gaussian sigma of the anomaly map smoothing, in model-input pixels.</summary>
    public double MapSigma { get; init; } = 4.0;

    public void Validate()
    {
        if (NeighbourCount < 1) throw new PatchCoreException($"k must be at least 1, got {NeighbourCount}.");
        if (ReweightNeighbours < 1) throw new PatchCoreException($"Reweighting needs at least 1 neighbour, got {ReweightNeighbours}.");
        if (MapSigma <= 0) throw new PatchCoreException($"Map sigma must be positive, got {MapSigma}.");
    }
}
