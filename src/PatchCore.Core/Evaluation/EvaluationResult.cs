using System.Diagnostics;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;

namespace PatchCore.Core.Evaluation;

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
    public IReadOnlyList<ReportImage> HighestGood { get; init; } = [];
    public IReadOnlyList<ReportImage> HighestDefect { get; init; } = [];
}
