namespace PatchCore.Inspection.Intake;

/// <summary>
/// The durable note of one submission, <c>Inbox/.inspection/uploads/ID.json</c>: written (fsynced) before the image is
/// renamed into its product's inbox folder as <see cref="InboxName"/>, read when that file is inspected, and removed once
/// its record is durable. It is what lets an image submitted just before a crash keep its original name, its source and
/// its id after the restart; the inbox file itself is an ordinary image to every other part of the daemon.
/// </summary>
/// <param name="Id">The submission's id, which becomes its record's id (a version-7 GUID, 32 hex digits).</param>
/// <param name="InboxName">The file's name in the product's inbox folder: <c>upload-ID.ext</c>.</param>
/// <param name="ReceivedAt">When the submission arrived: the record's <c>receivedAt</c>.</param>
internal sealed record SubmissionTicket(string Id, string Product, string InboxName, string OriginalName, string Source,
    IReadOnlyDictionary<string, string>? Metadata, DateTimeOffset ReceivedAt)
{
    /// <summary><see cref="Submission.MessageId"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? MessageId { get; init; }

    /// <summary><see cref="Submission.Quarantine"/>: the file lies in <see cref="ImageSubmissions.QuarantineFolder"/> and its record is quarantined with this reason.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Quarantine { get; init; }

    public SubmissionOrigin Origin => new(Source, Metadata) { MessageId = MessageId };
}
