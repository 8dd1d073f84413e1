using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PatchCore.Core;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Outbox;
using PatchCore.Inspection.Publishing;

namespace PatchCore.Inspection.Observability;

/// <summary>
/// Refreshes health.json (atomically) every HealthIntervalMs and logs a status line every StatusIntervalMs, both from
/// the instruments' totals (<see cref="InspectionTotalsCollector"/>) and the <see cref="DaemonStatus"/>.
/// </summary>
public sealed class HealthReporter : BackgroundService
{
    private readonly InspectionOptions _options;
    private readonly Layout _layout;
    private readonly DaemonStatus _status;
    private readonly InspectionTotalsCollector _totals;
    private readonly BankKeeper _banks;
    private readonly SharedBackbones _backbones;
    private readonly ILogger<HealthReporter> _log;
    private readonly PublisherState? _publishing;

    /// <param name="publishing">The MQTT publisher's state, for health.json's "mqtt"; null in a host without it.</param>
    public HealthReporter(InspectionOptions options, Layout layout, DaemonStatus status, InspectionTotalsCollector totals,
        BankKeeper banks, SharedBackbones backbones, ILogger<HealthReporter> log, PublisherState? publishing = null)
    {
        _publishing = publishing;
        _options = options;
        _layout = layout;
        _status = status;
        _totals = totals;
        _banks = banks;
        _backbones = backbones;
        _log = log;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var health = TimeSpan.FromMilliseconds(_options.HealthIntervalMs);
        var status = TimeSpan.FromMilliseconds(_options.StatusIntervalMs);
        var lastStatus = DateTime.UtcNow;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var totals = _totals.Snapshot();
                WriteHealth(totals);
                if (DateTime.UtcNow - lastStatus >= status)
                {
                    lastStatus = DateTime.UtcNow;
                    LogStatus(totals);
                }
                await Task.Delay(health, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        var totals = _totals.Snapshot();
        LogStatus(totals);
        WriteHealth(totals);
    }

    private void LogStatus(InspectionTotals t) =>
        _log.Status(t.Processed, t.Ok, t.Review, t.Ng, t.Quarantined, t.Backlog, t.MsPerImage, t.Errors, _status.BankId, _banks.LoadedCount, _banks.Products.Count);

    private void WriteHealth(InspectionTotals t)
    {
        var error = _status.LastError;
        var products = _banks.Snapshot().Select(p => p with { Processed = t.ProcessedByProduct.GetValueOrDefault(p.Name) }).ToArray();
        var report = new HealthReport(DateTimeOffset.UtcNow, _status.StartedAt, Environment.ProcessId, _status.State, _status.BankId,
            t.Processed, t.Ok, t.Review, t.Ng, t.Quarantined, t.Backlog, Math.Round(t.MsPerImage, 2), error?.At, error?.Message, t.Errors,
            products, Math.Round(_banks.LoadedBytes / (double)(1 << 20), 1), _banks.BudgetBytes / (double)(1 << 20), _backbones.Count)
        {
            Mqtt = _publishing?.Health(),
        };
        try
        {
            Durable.WriteAllBytes(_layout.HealthFile, JsonSerializer.SerializeToUtf8Bytes(report, RecordJson.Default.HealthReport));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.HealthUnwritable(e, _layout.HealthFile, e.Message);
        }
    }
}
