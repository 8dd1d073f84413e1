using System.Text.Json.Serialization;

namespace PatchCore.Inspection;

/// <summary>
/// What became of one image. Written to results.jsonl as <c>"ok"</c>, <c>"ng"</c> or <c>"quarantined"</c>: those
/// strings are the file's contract with its readers, so they are spelled out here rather than derived from the names.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<Verdict>))]
public enum Verdict
{
    /// <summary>Scored below the threshold.</summary>
    [JsonStringEnumMemberName("ok")] Ok,

    /// <summary>Scored at or above the threshold.</summary>
    [JsonStringEnumMemberName("ng")] Ng,

    /// <summary>Not scored: the record's reason says why (empty, too large, not an image, scoring failed).</summary>
    [JsonStringEnumMemberName("quarantined")] Quarantined,
}
