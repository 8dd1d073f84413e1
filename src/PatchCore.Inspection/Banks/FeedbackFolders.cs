namespace PatchCore.Inspection.Banks;

/// <summary>
/// Where one product's feedback lives: in its outbox (<c>Outbox/feedback/</c> for the default product,
/// <c>Outbox/&lt;product&gt;/feedback/</c> for a named one), beside the <c>review/</c> and <c>ng/</c> folders an
/// operator moves images from, so moving an image to the feedback of another product takes a deliberate step.
/// <list type="bullet">
/// <item><c>good/</c>: the operator's good images (moved or copied in); they wait here until an update uses them.</item>
/// <item><c>used/vN/</c>: the images that went into version N (kept, nothing is lost).</item>
/// <item><c>rejected/</c>: images that failed a check, each with <c>NAME.reason.txt</c>.</item>
/// <item><c>pending.json</c>: a version written but waiting for confirmation (its threshold rose past the factor), and why.</item>
/// <item><c>confirm</c>: created by the operator to make the pending version current.</item>
/// <item><c>journal.jsonl</c>: one line per event (update started, version made current, waiting for confirmation, confirmed, failed, rejected image).</item>
/// </list>
/// </summary>
internal sealed class FeedbackFolders(Layout layout, string product)
{
    public string Root { get; } = Path.Combine(layout.ProductOutbox(product), "feedback");
    public string Good => Path.Combine(Root, "good");
    public string Rejected => Path.Combine(Root, "rejected");
    public string Used(int version) => Path.Combine(Root, "used", "v" + version.ToString(System.Globalization.CultureInfo.InvariantCulture));
    public string PendingFile => Path.Combine(Root, "pending.json");
    public string ConfirmFile => Path.Combine(Root, "confirm");
    public string JournalFile => Path.Combine(Root, "journal.jsonl");
}
