namespace PatchCore.Core.Evaluation;

/// <summary>Collects ROC points, keeping one only after it moved at least <c>step</c> along either axis.</summary>
internal sealed class RocCurveSink(long positives, long negatives, int maxPoints) : IScoreGroupSink
{
    // The curve's L1 length is at most 2, so points at least `step` apart number at most 2 / step (+ both ends).
    private readonly double _step = maxPoints <= 0 ? 0 : 2.0 / Math.Max(1, maxPoints - 2);
    private readonly List<double> _fpr = [0];
    private readonly List<double> _tpr = [0];
    private readonly List<float> _thresholds = [float.PositiveInfinity];
    private long _fp, _tp;
    private double _lastFpr, _lastTpr;
    private bool _pending;
    private float _pendingThreshold;

    public void Add(in ScoreGroup group)
    {
        _fp += group.Negatives;
        _tp += group.Positives;
        double fpr = (double)_fp / negatives, tpr = (double)_tp / positives;
        if (fpr - _lastFpr >= _step || tpr - _lastTpr >= _step)
        {
            Keep(fpr, tpr, group.Score);
            _pending = false;
        }
        else
        {
            _pending = true;
            _pendingThreshold = group.Score;
        }
    }

    public RocCurve Result()
    {
        if (positives == 0 || negatives == 0)
            return RocCurve.Empty;
        if (_pending)
            Keep((double)_fp / negatives, (double)_tp / positives, _pendingThreshold);
        return new RocCurve([.. _fpr], [.. _tpr], [.. _thresholds]);
    }

    private void Keep(double fpr, double tpr, float threshold)
    {
        _fpr.Add(fpr);
        _tpr.Add(tpr);
        _thresholds.Add(threshold);
        _lastFpr = fpr;
        _lastTpr = tpr;
    }
}
