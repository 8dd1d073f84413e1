using PatchCore.Core;

namespace PatchCore.Inspection.Banks;

/// <summary>A loaded bank (as the scorer that uses it) and the threshold its verdicts use.</summary>
public sealed record ActiveBank(IImageScorer Scorer, double Threshold)
{
    public string BankId => Scorer.BankId;
}
