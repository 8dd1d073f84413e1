using System.Text.Json;
using System.Text.Json.Serialization;
using PatchCore.Core.Scoring;

namespace PatchCore.Inspection.Outbox;

/// <summary>
/// One line of results.jsonl. Written and fsynced before the image leaves the inbox; <see cref="Path"/> is where
/// the image is going, so the record doubles as the journal entry of its move (see <see cref="Reconciler"/>).
/// The property order and names are the file's format: readers depend on them.
/// </summary>
internal sealed record InspectionRecord
{
    public required string Id { get; init; }
    /// <summary>Where the image lies now: ok/, review/, ng/ or quarantine/ (of its product's outbox).</summary>
    public required string Path { get; init; }
    public required string OriginalName { get; init; }
    public required string InboxPath { get; init; }
    /// <summary>Hex SHA-256 of the content; null only when the file could not be read at all.</summary>
    public string? Sha256 { get; init; }
    public long Size { get; init; }
    public double? Score { get; init; }
    public double? Threshold { get; init; }
    /// <summary>Serialised as "ok", "review", "ng" or "quarantined".</summary>
    public required Verdict Verdict { get; init; }
    public string? Reason { get; init; }
    public string? Heatmap { get; init; }
    public string? BankId { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public DateTimeOffset ScoredAt { get; init; }
    // Fields added later are left out when null, so records without them are written exactly as before.
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? ReviewThreshold { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? PixelThreshold { get; init; }
    /// <summary>Defect regions in original pixels ([] when none); absent when there is no pixel threshold.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<DefectRegion>? Regions { get; init; }
    /// <summary>The binary defect mask PNG beside the heatmap.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Mask { get; init; }
    /// <summary>
    /// The product whose bank scored the image ("default" for images directly in the inbox); absent on a file that
    /// belongs to no product (quarantined from an unknown folder, or directly in an inbox without a default product),
    /// and on records written before products existed, which were all the default product's.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Product { get; init; }
    /// <summary>
    /// Where a submitted image came from (the HTTP API, MQTT) and the sender's notes; absent on folder images. A
    /// submitted image's record id is its submission's id.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Intake.SubmissionOrigin? Submission { get; init; }

    public string ToJsonLine() => JsonSerializer.Serialize(this, RecordJson.Default.InspectionRecord);

    public static InspectionRecord? FromJsonLine(string line) => JsonSerializer.Deserialize(line, RecordJson.Default.InspectionRecord);
}
