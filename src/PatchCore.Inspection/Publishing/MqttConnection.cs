using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;
using PatchCore.Inspection.Observability;
using Polly;

namespace PatchCore.Inspection.Publishing;

/// <summary>
/// The daemon's publishing connection to the broker (MQTT 5, clean start): connects, and after any failure or loss
/// connects again with exponential backoff and jitter (Polly), for as long as the daemon runs. The last will is the
/// retained <c>offline</c> status, so subscribers learn of a crash from the broker. The result publisher and the status
/// go through it; what must happen on every new connection (the online status) is registered with
/// <see cref="OnConnected"/>. Images in (<see cref="Intake.MqttImageIntake"/>) have their own connection, with a
/// persistent session this one must not have.
/// </summary>
internal sealed class MqttConnection : IDisposable
{
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _clientOptions;
    private readonly X509Certificate2Collection _trusted = [];
    private readonly ResiliencePipeline _reconnect;
    private readonly TimeSpan _pauseAfterLoss;
    private readonly PublisherState _state;
    private readonly DaemonStatus _status;
    private readonly ILogger<MqttConnection> _log;
    private readonly List<Func<CancellationToken, Task>> _onConnected = [];
    private readonly object _lock = new();
    private TaskCompletionSource _connected = NewSignal();
    private TaskCompletionSource _lost = NewSignal();
    private volatile bool _stopping;

    public MqttConnection(MqttOptions options, MqttTopics topics, PublisherState state, DaemonStatus status, ILogger<MqttConnection> log)
    {
        _state = state;
        _status = status;
        _log = log;
        Server = $"{options.Server.Trim()}:{options.EffectivePort}";
        _pauseAfterLoss = TimeSpan.FromMilliseconds(options.ReconnectDelayMs);

        var will = new StationStatus(StationStatus.Offline, state.ClientId, Environment.MachineName, Environment.ProcessId, status.StartedAt)
        {
            Reason = "connection lost",
        };
        var builder = MqttClientSettings.Builder(options, state.ClientId, _trusted)
            // Clean start: nothing the broker kept for an earlier connection is needed, since the cursor says what to
            // publish again. (Images in have their own connection with a session that outlives a crash: MqttImageIntake.)
            .WithCleanStart(true)
            .WithWillTopic(topics.Status)
            .WithWillPayload(JsonSerializer.SerializeToUtf8Bytes(will, PublishingJson.Default.StationStatus))
            .WithWillContentType("application/json")
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (!options.UseTls && !string.IsNullOrEmpty(options.Password)) log.MqttPasswordWithoutTls(Server);
        _clientOptions = builder.Build();

        _client = new MqttClientFactory().CreateMqttClient();
        _client.DisconnectedAsync += OnDisconnected;

        _reconnect = MqttClientSettings.Reconnect(options, (exception, attempt, delay) =>
        {
            string error = MqttClientSettings.Describe(exception);
            _state.Error($"Cannot connect to {Server}: {error}");
            _status.ReportError(InspectionMetrics.ErrorTypes.Mqtt, $"MQTT: cannot connect to {Server}: {error}");
            _log.MqttConnectFailed(Server, attempt, error, (int)delay.TotalMilliseconds);
        });
    }

    /// <summary>host:port, for messages.</summary>
    public string Server { get; }

    public bool IsConnected => _client.IsConnected;

    /// <summary>How many QoS 1 messages may await their PUBACK at once on this connection (the broker's Receive Maximum).</summary>
    public int ReceiveMaximum { get; private set; } = 1;

    /// <summary>Runs after every successful connection, in order of registration, before anything waits on <see cref="WaitConnectedAsync"/> again.</summary>
    public void OnConnected(Func<CancellationToken, Task> step)
    {
        lock (_lock) _onConnected.Add(step);
    }

    /// <summary>Completes when connected (at once if connected now).</summary>
    public Task WaitConnectedAsync(CancellationToken cancel)
    {
        Task connected;
        lock (_lock) connected = _connected.Task;
        return connected.WaitAsync(cancel);
    }

    public Task<MqttClientPublishResult> PublishAsync(MqttApplicationMessage message, CancellationToken cancel) => _client.PublishAsync(message, cancel);

    /// <summary>Connects, and connects again after every loss, until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await _reconnect.ExecuteAsync(ConnectOnceAsync, stop).ConfigureAwait(false);
                Func<CancellationToken, Task>[] steps;
                lock (_lock) steps = [.. _onConnected];
                foreach (var step in steps)
                {
                    try { await step(stop).ConfigureAwait(false); }
                    catch (Exception e) when (e is not OperationCanceledException) { _log.MqttAfterConnectFailed(e, e.Message); }
                }
                lock (_lock)
                {
                    // Lost again during the steps: the publisher is not woken for a connection that is gone.
                    if (!_lost.Task.IsCompleted) _connected.TrySetResult();
                }

                Task lost;
                lock (_lock) lost = _lost.Task;
                await lost.WaitAsync(stop).ConfigureAwait(false);
                // A broker that accepts and then drops at once (another client taking this id) is not hammered.
                await Task.Delay(_pauseAfterLoss, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>A clean DISCONNECT: the broker discards the last will (the caller has published the offline status itself).</summary>
    public async Task DisconnectAsync(CancellationToken cancel)
    {
        _stopping = true;
        if (!_client.IsConnected) return;
        try
        {
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MqttCommunicationException or OperationCanceledException or InvalidOperationException)
        {
            // The connection was going anyway; the broker then publishes the will, which says offline too.
        }
    }

    private async ValueTask ConnectOnceAsync(CancellationToken stop)
    {
        lock (_lock) _lost = NewSignal();
        var result = await MqttClientSettings.ConnectAsync(_client, _clientOptions, stop).ConfigureAwait(false);
        ReceiveMaximum = result.ReceiveMaximum is > 0 and var maximum ? maximum : ushort.MaxValue;
        _state.SetConnected(true);
        _log.MqttConnected(Server, _state.ClientId, _state.Options.TopicPrefix + "/results/<product>", _state.Options.TopicPrefix + "/status");
    }

    private Task OnDisconnected(MqttClientDisconnectedEventArgs e)
    {
        if (!e.ClientWasConnected) return Task.CompletedTask; // a failed attempt: the retry reports it
        _state.SetConnected(false);
        lock (_lock)
        {
            if (_connected.Task.IsCompleted) _connected = NewSignal();
            _lost.TrySetResult();
        }
        if (!_stopping)
        {
            string reason = e switch
            {
                { Reason: MqttClientDisconnectReason.SessionTakenOver } => "another client connected with the same client id " + _state.ClientId,
                { Exception: { } exception } => MqttClientSettings.Describe(exception),
                { ReasonString: { Length: > 0 } text } => $"{e.Reason}: {text}",
                // No DISCONNECT from the broker and no error: the connection just closed (the broker died or was killed).
                { Reason: MqttClientDisconnectReason.NormalDisconnection } => "the broker closed the connection",
                _ => e.Reason.ToString(),
            };
            _state.Error($"Connection to {Server} lost: {reason}");
            _status.ReportError(InspectionMetrics.ErrorTypes.Mqtt, $"MQTT: connection to {Server} lost: {reason}");
            _log.MqttConnectionLost(Server, reason);
        }
        return Task.CompletedTask;
    }

    /// <summary>MQTTnet's message and, where it wraps one, the cause ("Connection refused", a certificate error).</summary>
    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose()
    {
        _stopping = true;
        _client.DisconnectedAsync -= OnDisconnected;
        _client.Dispose();
        foreach (var certificate in _trusted) certificate.Dispose();
    }
}
