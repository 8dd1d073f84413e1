using System.Text.Json.Serialization;

namespace PatchCore.Inspection.Intake;

/// <summary>
/// Where a submitted image came from, as its record states it (<c>"submission": {"source": "http", "metadata": {...}}</c>);
/// folder images have none. The record's id is the submission's id, known to the sender from the moment it was accepted.
/// </summary>
internal sealed record SubmissionOrigin(string Source,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Metadata)
{
    /// <summary>The identity of the MQTT message that carried the image (<see cref="Submission.MessageId"/>); absent otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MessageId { get; init; }
}
