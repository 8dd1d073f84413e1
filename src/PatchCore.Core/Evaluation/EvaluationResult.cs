using System.Diagnostics;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;

namespace PatchCore.Core.Evaluation;

/// <summary>What an evaluation measured. The verdict and region figures exist when good images were held out to calibrate thresholds.</summary>
public sealed record EvaluationResult
{
    public required string Category { get; init; }
    public required double ImageAuroc { get; init; }
    public double? PixelAuroc { get; init; }
    public double? Pro { get; init; }
    public required F1MaxResult ImageF1 { get; init; }
    public F1MaxResult? PixelF1 { get; init; }
    public required int TrainImages { get; init; }
    public required int TestImages { get; init; }
    public required long Candidates { get; init; }
    public required long BankVectors { get; init; }
    public required int Dimension { get; init; }
    public required PhaseSeconds Seconds { get; init; }
    public required IReadOnlyList<ScoredImage> Images { get; init; }
    public required RocCurve ImageRoc { get; init; }
    public RocCurve? PixelRoc { get; init; }
    public required IReadOnlyDictionary<string, string> Settings { get; init; }
    /// <summary>Training images held out of the bank to calibrate the thresholds (0: every one is in the bank, no thresholds).</summary>
    public int HeldOutImages { get; init; }
    /// <summary>The calibrated thresholds; null without held-out images.</summary>
    public Thresholds? Thresholds { get; init; }
    public VerdictCounts? GoodVerdicts { get; init; }
    public VerdictCounts? DefectVerdicts { get; init; }
    /// <summary>Regions against the ground truth; null without masks or without a pixel threshold.</summary>
    public RegionFigures? Regions { get; init; }
    public IReadOnlyList<ReportImage> HighestGood { get; init; } = [];
    public IReadOnlyList<ReportImage> HighestDefect { get; init; } = [];
}
