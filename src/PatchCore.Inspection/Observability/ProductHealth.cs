namespace PatchCore.Inspection.Observability;

/// <summary>One product in health.json: its bank file and the accepted bank's id, whether that bank is in memory now,
/// its estimated size, how often it was loaded, images recorded for it since start, and the last refusal of a new bank.</summary>
internal sealed record ProductHealth(
    string Name, string Bank, string? BankId, bool Loaded, double MemoryMb, int Loads,
    DateTimeOffset? LastErrorAt, string? LastError)
{
    public long Processed { get; init; }

    /// <summary>When the accepted bank was built; null when the bank does not say.</summary>
    public DateTimeOffset? BankCreatedAt { get; init; }

    /// <summary>The operator's feedback for this product (waiting images, the last update, a version awaiting confirmation); absent when Inspection:Feedback is off.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Banks.FeedbackHealth? Feedback { get; init; }

    /// <summary>Drift of the recent good scores from the bank's calibration; absent until a good score of this bank was seen.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Banks.DriftHealth? Drift { get; init; }
}
