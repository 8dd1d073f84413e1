namespace PatchCore.Inspection.Banks;

/// <summary>
/// What health.json says of one product's feedback: <see cref="State"/> is <c>idle</c>, <c>updating</c> or
/// <c>awaiting-confirmation</c>; images waiting in <c>feedback/good/</c>, the last update and any version waiting for
/// confirmation with the reason.
/// </summary>
internal sealed record FeedbackHealth(string State, int Waiting, int Rejected)
{
    public int? LastVersion { get; init; }
    public DateTimeOffset? LastUpdateAt { get; init; }
    public double? LastUpdateSeconds { get; init; }
    public int? PendingVersion { get; init; }
    public string? PendingReason { get; init; }
    public DateTimeOffset? LastErrorAt { get; init; }
    public string? LastError { get; init; }
}
