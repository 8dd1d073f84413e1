namespace PatchCore.Core.Evaluation;

/// <summary>
/// Exact area under the ROC curve as a fold over descending score groups: every negative scores one point per
/// positive above it and half a point per positive tied with it, i.e. the Mann-Whitney U statistic with average
/// ranks for ties, divided by P * N. Counted in integers, so the only rounding is the final division.
/// </summary>
internal sealed class AurocSink(long positives, long negatives) : IScoreGroupSink
{
    private Int128 _twiceU;
    private long _positivesAbove;

    public void Add(in ScoreGroup group)
    {
        _twiceU += (Int128)group.Negatives * (2 * _positivesAbove + group.Positives);
        _positivesAbove += group.Positives;
    }

    /// <summary>The AUROC, or NaN when either class is absent.</summary>
    public double Result() =>
        positives == 0 || negatives == 0 ? double.NaN : (double)_twiceU / (2.0 * positives * negatives);
}
