using PatchCore.Core.Scoring;

namespace PatchCore.Core;

/// <summary>Progress of a long phase: features, coreset, index, calibration.</summary>
public sealed record BuildProgress(string Phase, double Done, double Total);
