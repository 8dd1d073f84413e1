using System.Diagnostics;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;

namespace PatchCore.Core.Evaluation;

/// <summary>Seconds an evaluation spent per phase: features, coreset and index (whole bank), scoring (per test image).</summary>
public sealed record PhaseSeconds(double Features, double Coreset, double Index, double ScorePerImage);
