using System.Diagnostics;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;

namespace PatchCore.Core.Evaluation;

/// <summary>One test image of an evaluation: its label, defect type and image score.</summary>
public sealed record ScoredImage(string Path, bool IsAnomalous, string DefectType, double Score);
