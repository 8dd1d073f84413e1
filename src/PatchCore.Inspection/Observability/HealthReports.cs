using PatchCore.Core;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Publishing;

namespace PatchCore.Inspection.Observability;

/// <summary>
/// The daemon's state as one <see cref="HealthReport"/>, from the instruments' totals and the <see cref="DaemonStatus"/>:
/// what health.json holds (<see cref="HealthReporter"/>) and what the HTTP API's <c>/v1/status</c> answers, so the two
/// never disagree.
/// </summary>
internal sealed class HealthReports
{
    private readonly DaemonStatus _status;
    private readonly InspectionTotalsCollector _totals;
    private readonly BankKeeper _banks;
    private readonly SharedBackbones _backbones;
    private readonly PublisherState? _publishing;
    private readonly Intake.MqttImageIntake? _intake;
    private readonly DriftMonitor? _drift;
    private readonly BankFeedback? _feedback;

    /// <param name="publishing">The MQTT publisher's state, for the report's "mqtt"; null in a host without it.</param>
    /// <param name="intake">The MQTT image intake, for "mqtt"'s "intake"; null in a host without it.</param>
    /// <param name="drift">Each product's drift; null in a host without it.</param>
    /// <param name="feedback">Each product's feedback; null in a host without it.</param>
    public HealthReports(DaemonStatus status, InspectionTotalsCollector totals, BankKeeper banks, SharedBackbones backbones,
        PublisherState? publishing = null, Intake.MqttImageIntake? intake = null, DriftMonitor? drift = null, BankFeedback? feedback = null)
    {
        _drift = drift;
        _feedback = feedback;
        _publishing = publishing;
        _intake = intake;
        _status = status;
        _totals = totals;
        _banks = banks;
        _backbones = backbones;
    }

    public HealthReport Now() => From(_totals.Snapshot());

    /// <summary>The report of these totals (the reporter logs its status line from the same snapshot).</summary>
    public HealthReport From(InspectionTotals t)
    {
        var error = _status.LastError;
        var products = _banks.Snapshot().Select(p => p with
        {
            Processed = t.ProcessedByProduct.GetValueOrDefault(p.Name),
            Drift = _drift?.Health(p.Name),
            Feedback = _feedback?.Health(p.Name),
        }).ToArray();
        return new HealthReport(DateTimeOffset.UtcNow, _status.StartedAt, Environment.ProcessId, _status.State, _status.BankId,
            t.Processed, t.Ok, t.Review, t.Ng, t.Quarantined, t.Backlog, Math.Round(t.MsPerImage, 2), error?.At, error?.Message, t.Errors,
            products, Math.Round(_banks.LoadedBytes / (double)(1 << 20), 1), _banks.BudgetBytes / (double)(1 << 20), _backbones.Count)
        {
            Mqtt = _publishing?.Health() is { } mqtt ? mqtt with { Intake = _intake?.Health() } : null,
        };
    }
}
