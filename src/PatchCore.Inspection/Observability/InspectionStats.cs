namespace PatchCore.Inspection.Observability;

/// <summary>Counters shared by the worker, the status line and health.json. Thread-safe.</summary>
public sealed class InspectionStats
{
    private long _processed, _ok, _ng, _quarantined, _batchTicks, _batchImages;
    private readonly object _errorLock = new();
    private (DateTimeOffset At, string Message)? _lastError;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;
    public long Processed => Interlocked.Read(ref _processed);
    public long Ok => Interlocked.Read(ref _ok);
    public long Ng => Interlocked.Read(ref _ng);
    public long Quarantined => Interlocked.Read(ref _quarantined);
    public string? BankId { get; set; }
    public string State { get; set; } = "starting";

    /// <summary>Files seen in the inbox and not yet finished, set by the intake.</summary>
    public Func<int> Backlog { get; set; } = () => 0;

    public void Count(Verdict verdict)
    {
        Interlocked.Increment(ref _processed);
        switch (verdict)
        {
            case Verdict.Ok: Interlocked.Increment(ref _ok); break;
            case Verdict.Ng: Interlocked.Increment(ref _ng); break;
            default: Interlocked.Increment(ref _quarantined); break;
        }
    }

    public void AddBatch(int images, TimeSpan elapsed)
    {
        Interlocked.Add(ref _batchImages, images);
        Interlocked.Add(ref _batchTicks, elapsed.Ticks);
    }

    /// <summary>Mean wall time per image over all batches so far (decode, score, heatmap, record, move).</summary>
    public double MsPerImage
    {
        get
        {
            long images = Interlocked.Read(ref _batchImages);
            return images == 0 ? 0 : TimeSpan.FromTicks(Interlocked.Read(ref _batchTicks)).TotalMilliseconds / images;
        }
    }

    public void Error(string message)
    {
        lock (_errorLock) _lastError = (DateTimeOffset.UtcNow, message);
    }

    public (DateTimeOffset At, string Message)? LastError
    {
        get { lock (_errorLock) return _lastError; }
    }
}
