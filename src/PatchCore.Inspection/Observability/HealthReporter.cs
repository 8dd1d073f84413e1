using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Observability;

/// <summary>Contents of Outbox/health.json.</summary>
public sealed record HealthReport(
    DateTimeOffset Heartbeat, DateTimeOffset StartedAt, int Pid, string State, string? BankId,
    long Processed, long Ok, long Ng, long Quarantined, int Backlog, double MsPerImage,
    DateTimeOffset? LastErrorAt, string? LastError);

/// <summary>Refreshes health.json (atomically) every HealthIntervalMs and logs a status line every StatusIntervalMs.</summary>
public sealed class HealthReporter : BackgroundService
{
    private readonly InspectionOptions _options;
    private readonly Layout _layout;
    private readonly InspectionStats _stats;
    private readonly ILogger<HealthReporter> _log;

    public HealthReporter(InspectionOptions options, Layout layout, InspectionStats stats, ILogger<HealthReporter> log)
    {
        _options = options;
        _layout = layout;
        _stats = stats;
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
                WriteHealth();
                if (DateTime.UtcNow - lastStatus >= status)
                {
                    lastStatus = DateTime.UtcNow;
                    LogStatus();
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
        LogStatus();
        WriteHealth();
    }

    private void LogStatus() =>
        _log.LogInformation("Status: processed {Processed}, ok {Ok}, ng {Ng}, quarantined {Quarantined}, backlog {Backlog}, {MsPerImage:F1} ms/image, bank {BankId}",
            _stats.Processed, _stats.Ok, _stats.Ng, _stats.Quarantined, _stats.Backlog(), _stats.MsPerImage, _stats.BankId);

    private void WriteHealth()
    {
        var error = _stats.LastError;
        var report = new HealthReport(DateTimeOffset.UtcNow, _stats.StartedAt, Environment.ProcessId, _stats.State, _stats.BankId,
            _stats.Processed, _stats.Ok, _stats.Ng, _stats.Quarantined, _stats.Backlog(), Math.Round(_stats.MsPerImage, 2),
            error?.At, error?.Message);
        try
        {
            Durable.WriteAllBytes(_layout.HealthFile, JsonSerializer.SerializeToUtf8Bytes(report, RecordJson.Default.HealthReport));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning(e, "Cannot write {Health}: {Error}", _layout.HealthFile, e.Message);
        }
    }
}
