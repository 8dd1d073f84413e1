using System.Text.Json;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Observability;

namespace PatchCore.Inspection.Publishing;

/// <summary>
/// Publishes the retained status at <c>PREFIX/status</c>: online on every connection (which also replaces an offline
/// will the broker published during an outage) and every StatusIntervalMs, offline on a clean stop. The numbers are
/// health.json's: the instruments' totals, the banks, the publisher's state.
/// </summary>
internal sealed class StatusReporter
{
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(10);
    private readonly MqttConnection _connection;
    private readonly MqttTopics _topics;
    private readonly MqttOptions _options;
    private readonly PublisherState _state;
    private readonly DaemonStatus _daemon;
    private readonly InspectionTotalsCollector _totals;
    private readonly BankKeeper _banks;
    private readonly ILogger<StatusReporter> _log;

    public StatusReporter(MqttConnection connection, MqttTopics topics, MqttOptions options, PublisherState state, DaemonStatus daemon,
        InspectionTotalsCollector totals, BankKeeper banks, ILogger<StatusReporter> log)
    {
        _connection = connection;
        _topics = topics;
        _options = options;
        _state = state;
        _daemon = daemon;
        _totals = totals;
        _banks = banks;
        _log = log;
    }

    /// <summary>Refreshes the online status every StatusIntervalMs while connected, until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.StatusIntervalMs));
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                if (_connection.IsConnected) await PublishAsync(StationStatus.Online, reason: null, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Publishes the status and waits for the broker's acknowledgement; a failure is logged, never thrown (the next one replaces it).</summary>
    public async Task PublishAsync(string state, string? reason, CancellationToken cancel)
    {
        var t = _totals.Snapshot();
        var status = new StationStatus(state, _state.ClientId, Environment.MachineName, Environment.ProcessId, _daemon.StartedAt)
        {
            At = DateTimeOffset.UtcNow,
            Reason = reason,
            Daemon = _daemon.State,
            Banks = _banks.Snapshot().ToDictionary(p => p.Name, p => p.BankId, StringComparer.Ordinal),
            Counts = new StatusCounts(t.Processed, t.Ok, t.Review, t.Ng, t.Quarantined, t.Backlog, t.Errors),
            Published = _state.Published,
            Lag = _state.Lag,
        };
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(_topics.Status)
            .WithPayload(JsonSerializer.SerializeToUtf8Bytes(status, PublishingJson.Default.StationStatus))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag()
            .WithContentType("application/json")
            .Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(AckTimeout);
        try
        {
            var result = await _connection.PublishAsync(message, timeout.Token).ConfigureAwait(false);
            if (!result.IsSuccess) _log.MqttStatusFailed(state, $"the broker refused it: {result.ReasonCode} {result.ReasonString}");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancel.IsCancellationRequested)
        {
            _log.MqttStatusFailed(state, e.Message);
        }
    }
}
