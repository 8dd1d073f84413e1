namespace PatchCore.Core.Evaluation;

/// <summary>
/// Area under the per-region overlap (PRO) curve up to a false-positive-rate limit, normalised by that limit.
/// FPR counts normal pixels (outside every region) over the whole test set; PRO is the mean over regions of the
/// fraction of the region's pixels at or above the threshold, so each region pixel adds 1 / (R * size) to it.
/// One curve point per distinct score, trapezoids in between, the last one cut at exactly the limit by linear
/// interpolation.
/// </summary>
internal sealed class AuproSink(long normalPixels, int regions, double fprLimit) : IScoreGroupSink
{
    private long _falsePositives;
    private double _fpr, _pro, _area;
    private bool _done;

    public void Add(in ScoreGroup group)
    {
        if (_done || normalPixels == 0 || regions == 0)
            return;
        _falsePositives += group.Negatives;
        double fpr = (double)_falsePositives / normalPixels;
        double pro = _pro + group.RegionCoverage / regions;
        if (fpr >= fprLimit)
        {
            // fpr > _fpr here, since _fpr < fprLimit: the cut point lies on this segment.
            double proAtLimit = _pro + (pro - _pro) * (fprLimit - _fpr) / (fpr - _fpr);
            _area += (fprLimit - _fpr) * (_pro + proAtLimit) / 2;
            _done = true;
            return;
        }
        _area += (fpr - _fpr) * (_pro + pro) / 2;
        _fpr = fpr;
        _pro = pro;
    }

    /// <summary>The normalised AUPRO, or NaN when there is no region or no normal pixel.</summary>
    public double Result() => normalPixels == 0 || regions == 0 ? double.NaN : _area / fprLimit;
}
