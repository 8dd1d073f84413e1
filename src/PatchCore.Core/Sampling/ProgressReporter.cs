namespace PatchCore.Core.Sampling;

/// <summary>
/// Reports the greedy's progress about every 1 %, and 1.0 at the end. Up to a count: the share of the steps done.
/// Down to a coverage radius (<paramref name="stopAt"/>), where the number of steps is not known in advance: the larger
/// of that share and how far the largest remaining distance has come down from its first value towards the radius
/// (it never rises, so neither does the report).
/// </summary>
internal sealed class ProgressReporter(IProgress<double>? progress, int total, float? stopAt = null)
{
    private readonly int _every = Math.Max(1, total / 100);
    private float _first = float.NaN;
    private double _reported = -1;

    public void Step(int done)
    {
        if (progress is not null && (done % _every == 0 || done == total))
            Report((double)done / total);
    }

    /// <summary>Step <paramref name="done"/> chose a point whose distance was <paramref name="largest"/>.</summary>
    public void Step(int done, float largest)
    {
        if (stopAt is not float radius)
        {
            Step(done);
            return;
        }
        if (progress is null) return;
        if (float.IsNaN(_first)) _first = largest;
        double towards = _first > radius ? (_first - largest) / (_first - radius) : 1;
        double share = Math.Clamp(Math.Max(towards, (double)done / total), 0, 1);
        if (share >= _reported + 0.01) Report(share);
    }

    /// <summary>The selection is over (count reached, or nothing left farther than the radius).</summary>
    public void Done()
    {
        if (progress is not null && _reported < 1) Report(1);
    }

    private void Report(double share)
    {
        _reported = share;
        progress!.Report(share);
    }
}
