using System.Text.Json;
using System.Text.Json.Serialization;

namespace PatchCore.Inspection.Outbox;

/// <summary>
/// A line of results.jsonl that is not an image's record: the moment a product's scoring switched to another bank
/// (a replaced bank file, a moved <c>NAME.current</c> pointer: a feedback update, <c>patchcore update</c>, a rollback).
/// It is written between batches, so every record above it was scored with <see cref="FromBankId"/> and every one
/// below with <see cref="ToBankId"/> (for that product). Its first property is <c>"kind"</c> where a record's is
/// <c>"id"</c>: that is how readers tell the two apart. The reconciler and the HTTP API skip it, the MQTT publisher
/// passes it without publishing it.
/// </summary>
internal sealed record BankSwitchEntry
{
    public const string KindName = "bank-switch";

    /// <summary>How every line that is not a record starts.</summary>
    public static ReadOnlySpan<byte> LineStart => "{\"kind\":\""u8;

    public string Kind { get; init; } = KindName;
    public required string Product { get; init; }
    public required DateTimeOffset At { get; init; }
    public string? FromBankId { get; init; }
    public required string ToBankId { get; init; }
    /// <summary>The version file the product's pointer named when the new bank was loaded (<c>NAME.v2.pcbank</c>); absent for a plain bank file.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Version { get; init; }
    public double? Threshold { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? ReviewThreshold { get; init; }

    public string ToJsonLine() => JsonSerializer.Serialize(this, RecordJson.Default.BankSwitchEntry);

    /// <summary>True for a line that is an entry like this one rather than an image's record.</summary>
    public static bool IsEntry(ReadOnlySpan<byte> line) => line.StartsWith(LineStart);

    public static bool IsEntry(string line) => line.StartsWith("{\"kind\":\"", StringComparison.Ordinal);
}
