namespace PatchCore.Inspection.Intake;

/// <summary>
/// An image handed to the daemon by a program rather than dropped by a camera (an HTTP upload, an MQTT message):
/// what <see cref="ImageSubmissions.SubmitAsync"/> needs besides the bytes.
/// </summary>
/// <param name="Product">The product whose bank scores it ("default" for the images directly in the inbox).</param>
/// <param name="OriginalName">The sender's name for the image, kept in the record and used for its place in the outbox
/// (reduced to a plain file name); null or empty gives <c>upload.png</c>.</param>
/// <param name="Source">Who submitted it, kept in the record: "http", "mqtt" (letters, digits, '-', '_', '.').</param>
internal sealed record Submission(string Product, string? OriginalName, string Source)
{
    /// <summary>Free key/value notes kept in the record (a serial number, a line): at most 16, keys of 1-64 letters,
    /// digits, '-', '_' or '.', values of at most 512 characters without control characters.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>The sender's identity of the message that carried the image (MQTT: its <c>messageId</c> user property,
    /// else <c>sha256:HEX</c> of the payload), kept in the record so a redelivery can be recognised; null for HTTP.</summary>
    public string? MessageId { get; init; }

    /// <summary>
    /// True where no one would hear a refusal (a message from the broker): an empty or oversized image is kept and
    /// quarantined by its batch with the reason a file gets ("zero-byte file", "file too large"), and
    /// <see cref="Quarantine"/> is allowed, instead of <see cref="SubmissionRefusedException"/>.
    /// </summary>
    public bool KeepRefused { get; init; }

    /// <summary>With <see cref="KeepRefused"/>: the image cannot be inspected here (MQTT: a product this daemon does not
    /// have); it is kept and its record is quarantined with this reason and no product.</summary>
    public string? Quarantine { get; init; }
}
