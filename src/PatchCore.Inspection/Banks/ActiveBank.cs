using PatchCore.Core;
using PatchCore.Core.Scoring;

namespace PatchCore.Inspection.Banks;

/// <summary>A loaded bank, as the scorer that uses it; its verdicts come with its results, at <see cref="Thresholds"/>.</summary>
internal sealed record ActiveBank(IImageScorer Scorer)
{
    public string BankId => Scorer.BankId;
    public Thresholds Thresholds => Scorer.Thresholds;
    /// <summary>The ng threshold (a bank without one is refused).</summary>
    public double Threshold => Scorer.Thresholds.Ng!.Value;
    /// <summary>When the bank was built (<see cref="IBankLoader.CreatedAt"/>); null when unknown.</summary>
    public DateTimeOffset? CreatedAt { get; init; }
    /// <summary>For a bank given as a <c>NAME.current</c> pointer, the version file it named when this bank was loaded; else null.</summary>
    public string? VersionFile { get; init; }
}
