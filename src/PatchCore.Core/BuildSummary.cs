using PatchCore.Core.Scoring;

namespace PatchCore.Core;

public sealed record BuildSummary
{
    public required string BankPath { get; init; }
    public required string BankId { get; init; }
    public required int BankImages { get; init; }
    public required int HeldOutImages { get; init; }
    public required long Candidates { get; init; }
    public required long BankVectors { get; init; }
    public required int Dimension { get; init; }
    public required string IndexFactory { get; init; }
    /// <summary>The calibrated ng threshold; null when no image was held out.</summary>
    public double? Threshold { get; init; }
    public double? ReviewThreshold { get; init; }
    public double? PixelThreshold { get; init; }
    /// <summary>How the bank reads image scores (never <see cref="ImageScoreRule.Auto"/>: the rule chosen).</summary>
    public ImageScoreRule ImageScore { get; init; }
    /// <summary>Why that rule, when the build was asked to choose (<see cref="ImageScoreRule.Auto"/>); null otherwise.</summary>
    public string? ImageScoreChoice { get; init; }
    public required TimeSpan FeatureTime { get; init; }
    public required TimeSpan CoresetTime { get; init; }
    public required TimeSpan IndexTime { get; init; }
    public required TimeSpan CalibrationTime { get; init; }
}
