namespace PatchCore.Core.Evaluation;

/// <summary>Sweeps thresholds down the distinct scores; F1 = 2TP / (2TP + FP + FN) = 2TP / (TP + FP + P).</summary>
internal sealed class F1Sink(long positives) : IScoreGroupSink
{
    private long _tp, _fp;
    private F1MaxResult _best = F1MaxResult.Undefined;

    public void Add(in ScoreGroup group)
    {
        _tp += group.Positives;
        _fp += group.Negatives;
        if (positives == 0)
            return;
        double f1 = 2.0 * _tp / (_tp + _fp + positives);
        // Strictly greater: among equal F1 values the first met, i.e. the highest threshold, is kept.
        if (double.IsNaN(_best.F1) || f1 > _best.F1)
            _best = new F1MaxResult(f1, group.Score, (double)_tp / (_tp + _fp), (double)_tp / positives);
    }

    public F1MaxResult Result() => _best;
}
