using System.Text.Json.Serialization;
using PatchCore.Inspection.Publishing;

namespace PatchCore.Inspection.Observability;

/// <summary>
/// Contents of Outbox/health.json. <c>Errors</c> counts every error since start; the last one's text is <c>LastError</c>.
/// <c>BankId</c> is the default product's; every product's bank is in <c>Products</c>. <c>Backbones</c> is how many
/// backbone networks are in memory (banks of the same backbone and weights share one).
/// </summary>
internal sealed record HealthReport(
    DateTimeOffset Heartbeat, DateTimeOffset StartedAt, int Pid, string State, string? BankId,
    long Processed, long Ok, long Review, long Ng, long Quarantined, int Backlog, double MsPerImage,
    DateTimeOffset? LastErrorAt, string? LastError, long Errors,
    IReadOnlyList<ProductHealth> Products, double BankMemoryMb, double? BankMemoryBudgetMb, int Backbones)
{
    /// <summary>The MQTT publisher (connected, published, lag, cursor, last error); absent when Inspection:Mqtt is off.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MqttHealth? Mqtt { get; init; }
}
