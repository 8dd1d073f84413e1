namespace PatchCore.Core;

/// <summary>A threshold from good values only: the <see cref="Quantile"/> of the values, times (1 + <see cref="Margin"/>).</summary>
public sealed record QuantileRule(double Quantile, double Margin)
{
    public void Validate(string what)
    {
        if (!(Quantile is >= 0 and <= 1)) throw new PatchCoreException($"The {what} quantile must be in [0, 1], got {Quantile}.");
        if (!(Margin >= 0)) throw new PatchCoreException($"The {what} margin must not be negative, got {Margin}.");
    }

    /// <summary>The threshold over values sorted ascending.</summary>
    public double Apply<T>(ReadOnlySpan<T> sortedValues) where T : System.Numerics.INumber<T> => QuantileOf(sortedValues, Quantile) * (1 + Margin);

    public override string ToString() => Margin == 0 ? $"quantile {Quantile:0.####}" : $"quantile {Quantile:0.####} x (1 + {Margin:0.###})";

    /// <summary>The q-quantile of values sorted ascending, interpolated linearly between neighbours.</summary>
    public static double QuantileOf<T>(ReadOnlySpan<T> sorted, double q) where T : System.Numerics.INumber<T>
    {
        if (sorted.Length == 0) throw new ArgumentException("No values to take a quantile of.", nameof(sorted));
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        double low = double.CreateChecked(sorted[lo]), high = double.CreateChecked(sorted[hi]);
        return low + (high - low) * (pos - lo);
    }
}
