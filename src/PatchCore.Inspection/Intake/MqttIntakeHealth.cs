namespace PatchCore.Inspection.Intake;

/// <summary>
/// The MQTT intake in health.json and <c>/v1/status</c> (<c>"mqtt": {"intake": {...}}</c>, absent when
/// <c>Inspection:Mqtt:Intake</c> is off): its subscription and client id, whether it is connected, and since start the
/// image messages received, acknowledged (their records durable), recognised as redeliveries, and held now.
/// </summary>
internal sealed record MqttIntakeHealth(string Subscription, string ClientId, bool Connected, long Received, long Acknowledged,
    long Redelivered, long Held);
