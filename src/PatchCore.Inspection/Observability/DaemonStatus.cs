namespace PatchCore.Inspection.Observability;

/// <summary>
/// The daemon's state in words, for health.json: lifecycle state, the bank in use and the last error's text. The
/// numbers live in <see cref="InspectionMetrics"/>; <see cref="ReportError"/> counts an error there and keeps its text here.
/// </summary>
internal sealed class DaemonStatus
{
    private readonly InspectionMetrics _metrics;
    private readonly object _errorLock = new();
    private (DateTimeOffset At, string Message)? _lastError;
    private volatile string _state = "starting";
    private volatile string? _bankId;

    public DaemonStatus(InspectionMetrics metrics) => _metrics = metrics;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>starting, reconciling, running, stopping or stopped.</summary>
    public string State
    {
        get => _state;
        set => _state = value;
    }

    public string? BankId
    {
        get => _bankId;
        set => _bankId = value;
    }

    /// <param name="type">One of <see cref="InspectionMetrics.ErrorTypes"/>.</param>
    public void ReportError(string type, string message)
    {
        _metrics.Error(type);
        lock (_errorLock) _lastError = (DateTimeOffset.UtcNow, message);
    }

    public (DateTimeOffset At, string Message)? LastError
    {
        get { lock (_errorLock) return _lastError; }
    }
}
