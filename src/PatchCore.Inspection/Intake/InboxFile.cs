namespace PatchCore.Inspection.Intake;

/// <summary>A complete image file in the inbox, taken for inspection.</summary>
/// <param name="ReceivedAt">When the daemon first saw the file.</param>
public sealed record InboxFile(string Path, string Name, DateTimeOffset ReceivedAt);

/// <summary>Names the daemon never takes: hidden files and the temporary names writers use before renaming.</summary>
public static class InboxNames
{
    public static bool IsIgnored(string fileName) =>
        fileName.Length == 0 ||
        fileName.StartsWith('.') ||
        fileName.EndsWith(".tmp", StringComparison.OrdinalIgnoreCase) ||
        fileName.EndsWith(".part", StringComparison.OrdinalIgnoreCase);
}
