namespace PatchCore.Core.Scoring;

/// <summary>
/// Where the time for one image went. Decoding is measured per image; the backbone and embedding, the search and the
/// map are measured per backbone batch and shared equally among its images.
/// </summary>
public sealed record ScoreTimings(TimeSpan Decode, TimeSpan Embedding, TimeSpan Search, TimeSpan Map)
{
    public static ScoreTimings Zero { get; } = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);

    public TimeSpan Total => Decode + Embedding + Search + Map;
}
