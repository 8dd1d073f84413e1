using System.Text.Json.Serialization;

namespace PatchCore.Inspection.Banks;

/// <summary>
/// One line of a product's feedback journal (<see cref="FeedbackFolders.JournalFile"/>). <see cref="Kind"/> is one of
/// <c>started</c>, <c>current</c> (a new version made current: the daemon switches to it between batches),
/// <c>pending</c> (written, waiting for confirmation, <see cref="Reason"/> says why), <c>confirmed</c>, <c>failed</c>
/// and <c>rejected</c> (an image that failed a check).
/// </summary>
internal sealed record FeedbackEvent
{
    public required string Kind { get; init; }
    public required string Product { get; init; }
    public required DateTimeOffset At { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? Version { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? ParentVersion { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? BankId { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ParentId { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Images { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? VectorsAdded { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? OldThreshold { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? NewThreshold { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? Seconds { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Reason { get; init; }
}
