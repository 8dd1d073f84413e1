namespace PatchCore.Inspection.Intake;

/// <summary>Names the daemon never takes: hidden files (its own .inspection/ folder too) and the temporary names writers use before renaming.</summary>
internal static class InboxNames
{
    public static bool IsIgnored(string fileName) =>
        fileName.Length == 0 ||
        fileName.StartsWith('.') ||
        fileName.EndsWith(".tmp", StringComparison.OrdinalIgnoreCase) ||
        fileName.EndsWith(".part", StringComparison.OrdinalIgnoreCase);
}
