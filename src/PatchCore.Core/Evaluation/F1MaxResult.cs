namespace PatchCore.Core.Evaluation;

/// <summary>Best F1 over all thresholds at distinct scores, predicted anomalous when score &gt;= threshold.</summary>
/// <param name="F1">The largest F1; NaN when there is no anomalous sample.</param>
/// <param name="Threshold">The highest threshold that reaches it; NaN when F1 is NaN.</param>
/// <param name="Precision">Precision at that threshold.</param>
/// <param name="Recall">Recall at that threshold.</param>
public readonly record struct F1MaxResult(double F1, float Threshold, double Precision, double Recall)
{
    public static F1MaxResult Undefined { get; } = new(double.NaN, float.NaN, double.NaN, double.NaN);
}
