namespace PatchCore.Inspection.Intake;

/// <summary>A complete image file in the inbox, taken for inspection.</summary>
/// <param name="ReceivedAt">When the daemon first saw the file.</param>
public sealed record InboxFile(string Path, string Name, DateTimeOffset ReceivedAt);
