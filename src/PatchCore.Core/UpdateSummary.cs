using PatchCore.Core.Scoring;

namespace PatchCore.Core;

/// <summary>What <see cref="PatchCoreBankUpdater.Update"/> made: the new bank, what it added by which rule, and the thresholds before and after.</summary>
public sealed record UpdateSummary
{
    public required string BankPath { get; init; }
    public required string BankId { get; init; }
    /// <summary>N of NAME.vN.pcbank when the update wrote the next version (and made it current); null for an --out file.</summary>
    public int? Version { get; init; }
    /// <summary>The bank file the update started from (a pointer resolved to its version); never modified.</summary>
    public required string ParentPath { get; init; }
    public required string ParentId { get; init; }
    /// <summary>New images whose patches were candidates, and new images held out to calibrate.</summary>
    public required int BankImages { get; init; }
    public required int HeldOutImages { get; init; }
    /// <summary>Patch embeddings of the new bank images (inside the bank's region of interest).</summary>
    public required long Candidates { get; init; }
    public required long VectorsBefore { get; init; }
    public required long VectorsAdded { get; init; }
    public long VectorsAfter => VectorsBefore + VectorsAdded;
    public required int Dimension { get; init; }
    /// <summary>How the number added was decided ("coverage radius R (the parent's)", "count N", "share F").</summary>
    public required string Rule { get; init; }
    /// <summary>The parent's coverage radius in the coreset projection; null when it stored none.</summary>
    public double? ParentCoverageRadius { get; init; }
    /// <summary>After the update, the largest projected distance from a new patch to the nearest bank vector.</summary>
    public required double LargestRemaining { get; init; }
    /// <summary>The new bank's coverage radius (null when the parent's was unknown).</summary>
    public double? CoverageRadius { get; init; }
    public required Thresholds OldThresholds { get; init; }
    public required Thresholds NewThresholds { get; init; }
    /// <summary>Held-out images scored against the new bank (the parent's that still exist, and the new ones).</summary>
    public required int HeldOutScored { get; init; }
    /// <summary>Held-out images whose parent scores were kept ("name: why"): a conservative bound, as scores only fall with a larger bank.</summary>
    public required IReadOnlyList<string> CarriedOver { get; init; }
    public required TimeSpan FeatureTime { get; init; }
    public required TimeSpan CoresetTime { get; init; }
    public required TimeSpan IndexTime { get; init; }
    public required TimeSpan CalibrationTime { get; init; }
}
