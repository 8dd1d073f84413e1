namespace PatchCore.Inspection.Intake;

/// <summary>A complete entry of the inbox, taken for inspection: an image to score, or an entry to quarantine as it is.</summary>
/// <param name="ReceivedAt">When the daemon first saw the file.</param>
internal sealed record InboxFile(string Path, string Name, DateTimeOffset ReceivedAt)
{
    /// <summary>
    /// The product it belongs to ("default" directly in the inbox, else its inbox folder): that product's bank scores it
    /// and its outbox takes it. Null when it belongs to no product: it goes to Outbox/quarantine/.
    /// </summary>
    public string? Product { get; init; }

    /// <summary>Why it is quarantined without being scored (a link, or not in a product's folder); null = it is scored.</summary>
    public string? Refusal { get; init; }

    /// <summary>A symbolic link: recorded and moved as the link itself, never read through.</summary>
    public bool IsLink { get; init; }

    /// <summary>
    /// Set when the file is a submission (<see cref="ImageSubmissions.Resolve"/>): its record takes the ticket's id and
    /// origin, and <see cref="Name"/> and <see cref="ReceivedAt"/> are the sender's name and the time it was submitted.
    /// </summary>
    public SubmissionTicket? Submission { get; init; }
}
