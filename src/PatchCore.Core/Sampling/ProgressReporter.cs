namespace PatchCore.Core.Sampling;

/// <summary>Reports the fraction of selection steps done about every 1%, and 1.0 at the end.</summary>
internal sealed class ProgressReporter(IProgress<double>? progress, int total)
{
    private readonly int _every = Math.Max(1, total / 100);

    public void Step(int done)
    {
        if (progress is not null && (done % _every == 0 || done == total))
            progress.Report((double)done / total);
    }
}
