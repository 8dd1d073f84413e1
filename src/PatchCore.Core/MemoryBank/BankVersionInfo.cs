namespace PatchCore.Core.MemoryBank;

/// <summary>One version of a bank (<see cref="BankVersions.List"/>): its file, and what the file says about itself.</summary>
public sealed record BankVersionInfo
{
    /// <summary>N of NAME.vN.pcbank.</summary>
    public required int Version { get; init; }
    public required string Path { get; init; }
    public required long FileBytes { get; init; }
    /// <summary>True when the NAME.current pointer names this version.</summary>
    public required bool IsCurrent { get; init; }
    /// <summary>The bank's id (its checksum); null when the file cannot be read.</summary>
    public string? Id { get; init; }
    /// <summary>What the file says about itself; null when it cannot be read (see <see cref="Problem"/>).</summary>
    public BankMetadata? Metadata { get; init; }
    /// <summary>Why the file cannot be used (truncated, checksum mismatch, ...); null when it can.</summary>
    public string? Problem { get; init; }
}
