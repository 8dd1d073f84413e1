namespace PatchCore.Inspection.Publishing;

/// <summary>
/// The publisher in health.json (<c>"mqtt"</c>, absent when publishing is off): whether it is connected, records
/// published since start, <see cref="Lag"/> (records in results.jsonl the broker has not acknowledged yet), the
/// cursor's byte offset and the last acknowledged record, how many connections were made, and the last error.
/// </summary>
internal sealed record MqttHealth(
    string Server, string ClientId, string TopicPrefix, bool Connected, DateTimeOffset? ConnectedSince, long Connections,
    long Published, long Lag, long Cursor, string? LastPublishedId, DateTimeOffset? LastPublishedAt,
    DateTimeOffset? LastErrorAt, string? LastError)
{
    /// <summary>Images in over MQTT; absent when <c>Inspection:Mqtt:Intake</c> is off.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Intake.MqttIntakeHealth? Intake { get; init; }
}
