namespace PatchCore.Inspection.Intake;

/// <summary>An entry of the inbox that must get a record, and what becomes of it (see <see cref="InboxRouter"/>).</summary>
/// <param name="Product">Its product, or null for none (see <see cref="InboxFile.Product"/>).</param>
/// <param name="Refusal">Why it is quarantined unscored, or null when it is scored.</param>
/// <param name="IsLink">A symbolic link, taken as the link itself.</param>
internal readonly record struct InboxEntry(string Path, string? Product, string? Refusal, bool IsLink);
