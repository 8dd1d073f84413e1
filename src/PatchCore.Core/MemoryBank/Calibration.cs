namespace PatchCore.Core.MemoryBank;

/// <summary>
/// Image scores of held-out good images (never in the bank) and the default threshold derived from them.
/// Threshold rule: max(quantile(Quantile), mean + Sigmas * std) * (1 + Margin) over the held-out scores.
/// </summary>
public sealed record Calibration
{
    public IReadOnlyList<string> HeldOutImages { get; init; } = [];
    public IReadOnlyList<double> HeldOutScores { get; init; } = [];
    public double Mean { get; init; }
    public double StdDev { get; init; }
    public double Max { get; init; }
    public string Rule { get; init; } = "";
    public double? Threshold { get; init; }
}
