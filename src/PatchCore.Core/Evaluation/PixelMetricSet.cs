namespace PatchCore.Core.Evaluation;

/// <summary>All pixel-level figures of a test set.</summary>
/// <param name="Auroc">Exact pixel AUROC (NaN without anomalous or normal pixels).</param>
/// <param name="Aupro">Normalised AUPRO up to <paramref name="FprLimit"/> (NaN without regions or normal pixels).</param>
/// <param name="F1">Pixel F1-max and its threshold.</param>
/// <param name="Roc">Downsampled pixel ROC curve, for plots.</param>
/// <param name="FprLimit">The FPR limit of the AUPRO.</param>
public sealed record PixelMetricSet(double Auroc, double Aupro, F1MaxResult F1, RocCurve Roc, double FprLimit);
