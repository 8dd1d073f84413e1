using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using PatchCore.Core;
using PatchCore.Core.Scoring;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Banks;

/// <summary>
/// Rolling statistics of the scores of what the daemon judged good, per product, compared with the good scores its bank
/// was calibrated on (the held-out images' scores in the bank's calibration record).
/// <para>
/// The window holds the last <see cref="DriftOptions.Window"/> scores of images judged ok <em>or review</em>: the
/// bank's review threshold is by default the calibration's highest good score, so ok scores alone can never move
/// beyond the calibration; a drift (a lighting change, a new material) shows first as good images sliding into review.
/// ng images are left out (defects are not drift).
/// </para>
/// <para>
/// The figure: (median of the window - median of the calibration scores) / spread, where spread is the calibration's
/// highest score minus its median (at least 2 % of the median, so a calibration of two or three alike images does not
/// make a hair-trigger). 0 = the recent good images score as the calibration did; 1 = their median is at the
/// calibration's highest good score; beyond <see cref="DriftOptions.WarnAt"/> (either sign) the daemon warns in the
/// log (once, until it clears), in health.json and in the gauge <c>patchcore.drift</c>. The window starts again when
/// the product's bank changes (the new bank has its own calibration).
/// </para>
/// Called by the worker after each batch; health and the gauge read a snapshot under the lock.
/// </summary>
internal sealed class DriftMonitor
{
    public const string GaugeName = "patchcore.drift";

    private readonly DriftOptions _options;
    private readonly ILogger<DriftMonitor> _log;
    private readonly Dictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public DriftMonitor(InspectionOptions options, InspectionMetrics metrics, ILogger<DriftMonitor> log)
    {
        _options = options.Drift;
        _log = log;
        metrics.Meter.CreateObservableGauge(GaugeName, Measurements, "",
            "Drift of the recent good (ok/review) scores from the bank's calibration, by product: (recent median - calibration median) / (calibration max - median); warned at Inspection:Drift:WarnAt.");
    }

    /// <summary>Takes the scores of a batch's ok and review records of <paramref name="bank"/>.</summary>
    public void Observe(ActiveBank bank, IReadOnlyList<InspectionRecord> records)
    {
        foreach (var group in records.Where(r => r.Verdict is Verdict.Ok or Verdict.Review && r.Score is double s && double.IsFinite(s))
                     .GroupBy(r => r.Product ?? Product.DefaultName))
        {
            DriftHealth? report;
            bool warn, cleared;
            lock (_gate)
            {
                if (!_windows.TryGetValue(group.Key, out var window) || window.BankId != bank.BankId)
                    _windows[group.Key] = window = new Window(bank.BankId, CalibrationScores(bank.Scorer));
                foreach (var record in group)
                {
                    window.Scores.Enqueue(record.Score!.Value);
                    while (window.Scores.Count > _options.Window) window.Scores.Dequeue();
                }
                report = window.Report = Compute(window);
                bool past = report.Warning;
                warn = past && !window.Warned;
                cleared = !past && window.Warned && report.Figure is not null;
                window.Warned = past;
            }
            if (warn)
                _log.DriftWarning(group.Key, report.Figure!.Value, report.RecentMedian!.Value, report.CalibrationMedian!.Value, report.CalibrationHigh!.Value, report.Samples, _options.WarnAt);
            else if (cleared)
                _log.DriftCleared(group.Key, report.Figure!.Value, report.Samples);
        }
    }

    /// <summary>The product's drift for health.json; null before any good score of its bank was seen.</summary>
    public DriftHealth? Health(string product)
    {
        lock (_gate) return _windows.TryGetValue(product, out var w) ? w.Report : null;
    }

    private IEnumerable<Measurement<double>> Measurements()
    {
        lock (_gate)
            return _windows.Where(w => w.Value.Report?.Figure is not null)
                .Select(w => new Measurement<double>(w.Value.Report!.Figure!.Value, new KeyValuePair<string, object?>("product", w.Key)))
                .ToArray();
    }

    private DriftHealth Compute(Window w)
    {
        int n = w.Scores.Count;
        if (w.Calibration.Length == 0 || n < _options.MinSamples)
            return new DriftHealth(n, null, false, n == 0 ? null : QuantileRule.QuantileOf<double>(w.Scores.Order().ToArray(), 0.5), null,
                w.Calibration.Length == 0 ? null : QuantileRule.QuantileOf<double>(w.Calibration, 0.5), w.Calibration.Length == 0 ? null : w.Calibration[^1]);
        var recent = w.Scores.Order().ToArray();
        double recentMedian = QuantileRule.QuantileOf<double>(recent, 0.5), recentHigh = QuantileRule.QuantileOf<double>(recent, 0.95);
        double calMedian = QuantileRule.QuantileOf<double>(w.Calibration, 0.5), calHigh = w.Calibration[^1];
        double spread = Math.Max(calHigh - calMedian, Math.Max(0.02 * Math.Abs(calMedian), 1e-9));
        double figure = (recentMedian - calMedian) / spread;
        return new DriftHealth(n, Math.Round(figure, 3), Math.Abs(figure) >= _options.WarnAt, recentMedian, recentHigh, calMedian, calHigh);
    }

    private static double[] CalibrationScores(IImageScorer scorer) =>
        scorer is PatchCoreDetector detector
            ? detector.Metadata.Calibration.HeldOutScores.Where(double.IsFinite).Order().ToArray()
            : [];

    private sealed class Window(string bankId, double[] calibration)
    {
        public string BankId { get; } = bankId;
        public double[] Calibration { get; } = calibration;
        public Queue<double> Scores { get; } = new();
        public bool Warned { get; set; }
        public DriftHealth? Report { get; set; }
    }
}
