namespace PatchCore.Core.Evaluation;

/// <summary>
/// Defect regions against the ground truth, at the calibrated pixel threshold: a ground-truth region (8-connected
/// component of a mask, on the model-input grid) is hit when a reported region covers any of its pixels; every
/// region reported on a good image is a false one.
/// </summary>
public sealed record RegionFigures(int GroundTruthRegions, int HitRegions, int GoodImages, int RegionsOnGoodImages, int RegionsOffGroundTruth)
{
    /// <summary>Share of ground-truth regions hit by a reported region.</summary>
    public double HitRate => GroundTruthRegions == 0 ? double.NaN : (double)HitRegions / GroundTruthRegions;
    /// <summary>Regions reported per good test image.</summary>
    public double FalseRegionsPerGoodImage => GoodImages == 0 ? double.NaN : (double)RegionsOnGoodImages / GoodImages;
}
