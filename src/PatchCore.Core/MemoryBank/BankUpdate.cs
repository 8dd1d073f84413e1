namespace PatchCore.Core.MemoryBank;

/// <summary>
/// One update in a bank's lineage (<see cref="BankMetadata.Updates"/>): the bank it started from, what it added and
/// when, and how many vectors it added by which rule.
/// </summary>
public sealed record BankUpdate
{
    /// <summary>The parent bank's id (the checksum of its file, as <see cref="PatchCoreDetector.BankId"/>).</summary>
    public required string ParentId { get; init; }
    /// <summary>The parent's file name when the update ran (informational: files move).</summary>
    public string ParentFile { get; init; } = "";
    public required DateTimeOffset UpdatedUtc { get; init; }
    /// <summary>Every image the update was given, in the bank or held out.</summary>
    public required IReadOnlyList<AddedImage> Added { get; init; }
    public required long VectorsBefore { get; init; }
    public required long VectorsAdded { get; init; }
    /// <summary>New candidate patches the added vectors were chosen from.</summary>
    public required long Candidates { get; init; }
    /// <summary>How many vectors were added: "coverage radius R" (the parent's) or "count N".</summary>
    public required string Rule { get; init; }
}
