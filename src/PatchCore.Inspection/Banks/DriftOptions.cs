namespace PatchCore.Inspection.Banks;

/// <summary>Drift of the good images' scores from the bank's calibration (<c>Inspection:Drift</c>, <see cref="DriftMonitor"/>).</summary>
internal sealed class DriftOptions
{
    /// <summary>How many of the latest ok/review scores of a product are compared with its bank's calibration.</summary>
    public int Window { get; set; } = 200;

    /// <summary>No figure before this many scores are in the window (a few images say nothing about drift).</summary>
    public int MinSamples { get; set; } = 30;

    /// <summary>The figure at or beyond which a warning is logged and shown: 1 = the recent median is as far from the calibration's median as the calibration's highest good score.</summary>
    public double WarnAt { get; set; } = 1.0;
}
