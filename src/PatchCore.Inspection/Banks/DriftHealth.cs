namespace PatchCore.Inspection.Banks;

/// <summary>
/// What health.json says of one product's drift (<see cref="DriftMonitor"/>): how many recent scores, their median and
/// 95th percentile, the calibration's median and highest good score, the figure, and whether it is past the warning.
/// </summary>
internal sealed record DriftHealth(int Samples, double? Figure, bool Warning, double? RecentMedian, double? RecentHigh,
    double? CalibrationMedian, double? CalibrationHigh);
