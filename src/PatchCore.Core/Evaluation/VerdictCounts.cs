namespace PatchCore.Core.Evaluation;

/// <summary>How many images of one kind (good or defect) got each verdict at the calibrated thresholds.</summary>
public sealed record VerdictCounts(int Ok, int Review, int Ng)
{
    public int Total => Ok + Review + Ng;
    public double Share(int count) => Total == 0 ? 0 : (double)count / Total;
}
