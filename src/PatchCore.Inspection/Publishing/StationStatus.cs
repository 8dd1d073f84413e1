namespace PatchCore.Inspection.Publishing;

/// <summary>
/// The retained message at <c>PREFIX/status</c>. <c>online</c> (on every connection and every StatusIntervalMs) carries
/// the daemon's state, each product's bank id, the counts since start and the publisher's lag; <c>offline</c> is
/// published on a clean stop (reason <c>stopped</c>, with the final counts) and set as the last will, which the broker
/// publishes when the connection dies without a clean stop (reason <c>connection lost</c>: a crash, kill -9, a power cut).
/// </summary>
internal sealed record StationStatus(string State, string ClientId, string Host, int Pid, DateTimeOffset StartedAt)
{
    public const string Online = "online";
    public const string Offline = "offline";

    /// <summary>When this message was made; absent in the last will, which is made at connection time.</summary>
    public DateTimeOffset? At { get; init; }

    /// <summary>Offline only: <c>stopped</c> or <c>connection lost</c>.</summary>
    public string? Reason { get; init; }

    /// <summary>The daemon's own state: starting, reconciling, running, stopping or stopped.</summary>
    public string? Daemon { get; init; }

    /// <summary>Product name to the id of its accepted bank.</summary>
    public IReadOnlyDictionary<string, string?>? Banks { get; init; }

    public StatusCounts? Counts { get; init; }

    /// <summary>Records published since start, acknowledged by the broker.</summary>
    public long? Published { get; init; }

    /// <summary>Records in results.jsonl not yet acknowledged by the broker.</summary>
    public long? Lag { get; init; }
}
