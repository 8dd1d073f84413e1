namespace PatchCore.Core;

/// <summary>
/// The rules that turn held-out good images into the ng, review and pixel thresholds (see <see cref="MemoryBank.Calibration"/>),
/// and how their image scores are read.
/// </summary>
internal sealed record CalibrationRules(ThresholdRule Threshold, QuantileRule Review, QuantileRule Pixel, Scoring.ImageScoreRule ImageScore = Scoring.ImageScoreRule.Max);
