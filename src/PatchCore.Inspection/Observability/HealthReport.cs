namespace PatchCore.Inspection.Observability;

/// <summary>Contents of Outbox/health.json. <c>Errors</c> counts every error since start; the last one's text is <c>LastError</c>.</summary>
public sealed record HealthReport(
    DateTimeOffset Heartbeat, DateTimeOffset StartedAt, int Pid, string State, string? BankId,
    long Processed, long Ok, long Ng, long Quarantined, int Backlog, double MsPerImage,
    DateTimeOffset? LastErrorAt, string? LastError, long Errors);
