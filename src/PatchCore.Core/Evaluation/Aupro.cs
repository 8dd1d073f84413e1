namespace PatchCore.Core.Evaluation;

/// <summary>
/// Normalised area under the per-region-overlap curve up to a false-positive rate (AUPRO@0.3 by default), as
/// anomalib defines it. Regions are the 8-connected components of each image's mask. For a threshold t:
/// FPR(t) = normal pixels (outside every region, good images included) scoring &gt;= t, over all normal pixels;
/// PRO(t) = mean over all regions of the fraction of the region's pixels scoring &gt;= t. The curve has one
/// point per distinct score (ties together), starts at (0, 0), is integrated by trapezoids up to FPR = limit
/// with the last segment linearly interpolated at exactly the limit, and the area is divided by the limit,
/// so a perfect detector scores 1.
/// </summary>
public static class Aupro
{
    /// <summary>The usual false-positive-rate limit.</summary>
    public const double DefaultFprLimit = 0.3;

    /// <summary>Computes the normalised AUPRO.</summary>
    /// <returns>A value in [0, 1]; <see cref="double.NaN"/> when there is no ground-truth region or no normal pixel.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fprLimit"/> is not in (0, 1].</exception>
    public static double Compute(PixelScoreAccumulator pixels, double fprLimit = DefaultFprLimit)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        CheckLimit(fprLimit);
        var aupro = new AuproSink(pixels.NormalPixelCount, pixels.RegionCount, fprLimit);
        pixels.Sweep(aupro);
        return aupro.Result();
    }

    internal static void CheckLimit(double fprLimit)
    {
        if (!(fprLimit > 0 && fprLimit <= 1))
            throw new ArgumentOutOfRangeException(nameof(fprLimit), fprLimit, "The FPR limit must lie in (0, 1].");
    }
}
