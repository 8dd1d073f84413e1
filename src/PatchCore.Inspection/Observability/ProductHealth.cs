namespace PatchCore.Inspection.Observability;

/// <summary>One product in health.json: its bank file and the accepted bank's id, whether that bank is in memory now,
/// its estimated size, how often it was loaded, images recorded for it since start, and the last refusal of a new bank.</summary>
public sealed record ProductHealth(
    string Name, string Bank, string? BankId, bool Loaded, double MemoryMb, int Loads,
    DateTimeOffset? LastErrorAt, string? LastError)
{
    public long Processed { get; init; }

    /// <summary>When the accepted bank was built; null when the bank does not say.</summary>
    public DateTimeOffset? BankCreatedAt { get; init; }
}
