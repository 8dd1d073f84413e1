using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PatchCore.Inspection.Observability;

namespace PatchCore.Inspection.Publishing;

/// <summary>
/// The hosted service behind <c>Inspection:Mqtt</c>: once the host has started (so a daemon whose start fails never
/// shows itself online), it runs the connection, the result publisher and the status refresh. It is registered before
/// the worker and so stops after it: the records of the batch the worker finishes on SIGTERM are published too, then
/// the retained status says offline and the connection is closed cleanly. With no <c>Server</c> it does nothing.
/// </summary>
internal sealed class MqttPublishing : IHostedService, IDisposable
{
    /// <summary>How long a stop may spend publishing what is left; the rest waits in the journal for the next start.</summary>
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(10);

    private readonly MqttOptions _options;
    private readonly IServiceProvider _services;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<MqttPublishing> _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abort = new();
    private CancellationTokenRegistration _started;
    private volatile Task? _running;

    /// <param name="services">The MQTT parts are resolved only when publishing is on, so a daemon without a broker
    /// builds no client and adds no MQTT instruments.</param>
    public MqttPublishing(MqttOptions options, IServiceProvider services, IHostApplicationLifetime lifetime, ILogger<MqttPublishing> log)
    {
        _options = options;
        _services = services;
        _lifetime = lifetime;
        _log = log;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled) return Task.CompletedTask;
        var connection = _services.GetRequiredService<MqttConnection>();
        var results = _services.GetRequiredService<ResultPublisher>();
        var status = _services.GetRequiredService<StatusReporter>();
        _ = _services.GetRequiredService<PublishingMetrics>();
        connection.OnConnected(cancel => status.PublishAsync(StationStatus.Online, reason: null, cancel));
        _started = _lifetime.ApplicationStarted.Register(() =>
            _running = Task.WhenAll(
                Task.Run(() => connection.RunAsync(_stop.Token)),
                Task.Run(() => results.RunAsync(_stop.Token, _abort.Token)),
                Task.Run(() => status.RunAsync(_stop.Token))));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _started.DisposeAsync().ConfigureAwait(false);
        if (_running is null) return;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(DrainLimit);
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            // The publisher finishes the window in flight (its acknowledgements take milliseconds from a live broker).
            await _running.WaitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await _abort.CancelAsync().ConfigureAwait(false);
            await _running.ConfigureAwait(false);
        }

        var connection = _services.GetRequiredService<MqttConnection>();
        var results = _services.GetRequiredService<ResultPublisher>();
        var state = _services.GetRequiredService<PublisherState>();
        await results.DrainAsync(limit.Token).ConfigureAwait(false);
        if (connection.IsConnected)
            await _services.GetRequiredService<StatusReporter>().PublishAsync(StationStatus.Offline, "stopped", limit.Token).ConfigureAwait(false);
        await connection.DisconnectAsync(limit.Token).ConfigureAwait(false);
        state.SetConnected(false);
        _log.MqttStopped(state.Published, state.Lag);
    }

    public void Dispose()
    {
        _started.Dispose();
        _stop.Dispose();
        _abort.Dispose();
    }
}
