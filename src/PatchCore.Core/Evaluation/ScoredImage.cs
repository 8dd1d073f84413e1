using System.Diagnostics;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;

namespace PatchCore.Core.Evaluation;

/// <summary>One test image of an evaluation: its label, defect type, image score, and (with calibrated thresholds) its verdict and number of regions.</summary>
public sealed record ScoredImage(string Path, bool IsAnomalous, string DefectType, double Score)
{
    public Scoring.Verdict? Verdict { get; init; }
    public int? RegionCount { get; init; }
}
