using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Observability;

/// <summary>
/// Refreshes health.json (atomically) every HealthIntervalMs and logs a status line every StatusIntervalMs, both from
/// the instruments' totals (<see cref="InspectionTotalsCollector"/>) and the <see cref="DaemonStatus"/>, through
/// <see cref="HealthReports"/>.
/// </summary>
internal sealed class HealthReporter : BackgroundService
{
    private readonly InspectionOptions _options;
    private readonly Layout _layout;
    private readonly DaemonStatus _status;
    private readonly InspectionTotalsCollector _totals;
    private readonly BankKeeper _banks;
    private readonly HealthReports _reports;
    private readonly ILogger<HealthReporter> _log;

    public HealthReporter(InspectionOptions options, Layout layout, DaemonStatus status, InspectionTotalsCollector totals,
        BankKeeper banks, HealthReports reports, ILogger<HealthReporter> log)
    {
        _options = options;
        _layout = layout;
        _status = status;
        _totals = totals;
        _banks = banks;
        _reports = reports;
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
        var report = _reports.From(t);
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
