using PatchCore.Core.Scoring;

namespace PatchCore.Core;

/// <summary>
/// The default threshold from held-out good image scores:
/// max(quantile(Quantile), mean + Sigmas * std) * (1 + Margin).
/// </summary>
public sealed record ThresholdRule
{
    public double Quantile { get; init; } = 1.0;
    public double Sigmas { get; init; } = 3.0;
    public double Margin { get; init; } = 0.05;

    public void Validate()
    {
        if (!(Quantile is >= 0 and <= 1)) throw new PatchCoreException($"Threshold quantile must be in [0, 1], got {Quantile}.");
        if (Sigmas < 0 || Margin < 0) throw new PatchCoreException("Threshold sigmas and margin must not be negative.");
    }

    public override string ToString() => $"max(quantile {Quantile:0.###}, mean + {Sigmas:0.##} std) x (1 + {Margin:0.###})";

    public double Apply(IReadOnlyList<double> scores)
    {
        if (scores.Count == 0) throw new ArgumentException("No scores to calibrate on.", nameof(scores));
        var sorted = scores.Order().ToArray();
        double q = QuantileRule.QuantileOf<double>(sorted, Quantile);
        var (mean, std) = MeanStd(sorted);
        return Math.Max(q, mean + Sigmas * std) * (1 + Margin);
    }

    /// <summary>Mean and population standard deviation of the scores (the statistics the rule and the bank record).</summary>
    public static (double Mean, double StdDev) MeanStd(IReadOnlyList<double> scores)
    {
        double mean = scores.Average();
        return (mean, Math.Sqrt(scores.Sum(s => (s - mean) * (s - mean)) / scores.Count));
    }
}
