using System.Buffers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;
using PatchCore.Inspection.Publishing;

namespace PatchCore.Inspection.Intake;

/// <summary>
/// Images in over MQTT (<c>Inspection:Mqtt:Intake</c>): subscribes to <c>$share/GROUP/PREFIX/images/+</c> with QoS 1, so
/// the daemons of one group split the stream, and puts each message's payload through <see cref="ImageSubmissions"/>,
/// the path of HTTP uploads (origin <c>mqtt</c>; the user property <c>name</c> is the original name, <c>messageId</c>
/// the message's identity, the others metadata). A message is acknowledged (PUBACK) only once its record is fsynced and
/// its image moved; until then the broker holds it for this daemon's session.
/// <para>
/// Its own connection, apart from the publisher's: the intake needs a persistent session (a fixed client id, no clean
/// start, a session expiry) so that the broker delivers again what was not acknowledged when the daemon died, while the
/// publisher's session is deliberately clean (its cursor, not the broker, says what to send again); and the intake's
/// Receive Maximum (<c>IntakeReceiveMaximum</c>), which bounds the images held in memory and in the inbox, then bounds
/// nothing of the publisher's.
/// </para>
/// <para>
/// Exactly one record per message on this daemon: before a message is submitted, its identity is looked up in
/// <see cref="MqttDeliveries"/> (the journal's end and the waiting tickets, read at start, then every message taken);
/// a message taken already is acknowledged when its record is there, without a second submission. What remains: a
/// daemon that dies after the record's fsync and before the PUBACK leaves the message with its session; Mosquitto
/// gives it back to the same daemon when it reconnects, which recognises it; only if that session expires first (or a
/// broker hands an orphaned session's messages to another member, which MQTT 5 allows) does another member, with its
/// own journal, write a second record: same <c>sha256</c> and <c>submission.messageId</c>, in the other outbox.
/// </para>
/// A broker that is down never delays the start or folder scoring: connecting runs in the background and is retried.
/// </summary>
internal sealed partial class MqttImageIntake : IHostedService, IDisposable
{
    public const string Source = "mqtt";
    public const string NameProperty = "name", MessageIdProperty = "messageId";
    private const int MaxMetadata = 16, MaxMetadataValue = 512;

    private readonly MqttOptions _options;
    private readonly IServiceProvider _services;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<MqttImageIntake> _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<Delivery> _received = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions { SingleReader = true });
    private readonly object _lock = new();
    private readonly HashSet<Task> _acks = [];
    private readonly X509Certificate2Collection _trusted = [];
    private CancellationTokenRegistration _started;
    private Task? _running;
    private IMqttClient? _client;
    private TaskCompletionSource _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _generation;

    // Resolved at start, only when the intake is on.
    private ImageSubmissions _submissions = null!;
    private ProductCatalog _products = null!;
    private MqttIntakeMetrics _metrics = null!;
    private MqttDeliveries _deliveries = null!;
    private DaemonStatus _status = null!;
    private Layout _layout = null!;
    private string _server = "", _clientId = "", _filter = "", _topicStart = "";

    public MqttImageIntake(MqttOptions options, IServiceProvider services, IHostApplicationLifetime lifetime, ILogger<MqttImageIntake> log)
    {
        _options = options;
        _services = services;
        _lifetime = lifetime;
        _log = log;
    }

    /// <summary>
    /// For tests: true for a submission id leaves its message unacknowledged after its record is durable, as a daemon
    /// that dies between the fsync and the PUBACK does.
    /// </summary>
    internal Func<string, bool>? HoldAcknowledgement { get; set; }

    /// <summary>What health.json says of the intake; null when it is off (or not started).</summary>
    public MqttIntakeHealth? Health() => _client is null ? null
        : new MqttIntakeHealth(_filter, _clientId, _client.IsConnected, _metrics.Received, _metrics.Acknowledged, _metrics.Redelivered, _metrics.Held);

    /// <summary>The shared subscription: <c>$share/GROUP/PREFIX/images/+</c>.</summary>
    public static string FilterFor(MqttOptions options) => $"$share/{options.Group}/{options.TopicPrefix}/images/+";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.IntakeEnabled) return Task.CompletedTask;
        _submissions = _services.GetRequiredService<ImageSubmissions>();
        _products = _services.GetRequiredService<ProductCatalog>();
        _metrics = _services.GetRequiredService<MqttIntakeMetrics>();
        _status = _services.GetRequiredService<DaemonStatus>();
        _layout = _services.GetRequiredService<Layout>();
        _deliveries = new MqttDeliveries(_options.IntakeRememberedMessages);
        _server = $"{_options.Server.Trim()}:{_options.EffectivePort}";
        _clientId = _options.IntakeClientIdFor(_services.GetRequiredService<InspectionOptions>().OutboxPath);
        _filter = FilterFor(_options);
        _topicStart = _options.TopicPrefix + "/images/";
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessage;
        _client.DisconnectedAsync += OnDisconnected;
        // After the start (the worker has finished what a crash left, tickets included), in the background.
        _started = _lifetime.ApplicationStarted.Register(() => _running = Task.Run(() => RunAsync(_stop.Token)));
        return Task.CompletedTask;
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var recent = _services.GetRequiredService<IResultLog>().ReadLast(MqttDeliveries.JournalTailBytes);
        var (records, pending) = _deliveries.Load(recent, _submissions.Tickets(), _submissions.Track);
        _log.MqttIntakeRemembered(records, pending);
        var options = ClientOptions();
        var processing = Task.Run(() => ProcessAsync(stop));
        var reconnect = MqttClientSettings.Reconnect(_options, (exception, attempt, delay) =>
        {
            string error = MqttClientSettings.Describe(exception);
            _status.ReportError(InspectionMetrics.ErrorTypes.Mqtt, $"MQTT intake: cannot connect to {_server}: {error}");
            _log.MqttIntakeConnectFailed(_server, attempt, error, (int)delay.TotalMilliseconds);
        });
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await reconnect.ExecuteAsync(async ct =>
                {
                    lock (_lock) _lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    try
                    {
                        await ConnectAsync(options, ct).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                    {
                        // Connected but not subscribed: not left connected and deaf; the next attempt connects afresh.
                        if (_client!.IsConnected) await DisconnectAsync(ct).ConfigureAwait(false);
                        throw;
                    }
                }, stop).ConfigureAwait(false);
                Task lost;
                lock (_lock) lost = _lost.Task;
                await lost.WaitAsync(stop).ConfigureAwait(false);
                // A broker that accepts and then drops at once (another client taking this id) is not hammered.
                await Task.Delay(TimeSpan.FromMilliseconds(_options.ReconnectDelayMs), stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        _received.Writer.TryComplete();
        await processing.ConfigureAwait(false);
    }

    private async Task ConnectAsync(MqttClientOptions options, CancellationToken stop)
    {
        // Before the CONNECT: a session's redeliveries may arrive before ConnectAsync returns, and they belong to this
        // connection (an acknowledgement is only ever sent on the connection its message came on).
        Interlocked.Increment(ref _generation);
        var result = await MqttClientSettings.ConnectAsync(_client!, options, stop).ConfigureAwait(false);
        // Subscribed again on every connection (a no-op for a session that kept it), so a broker that lost its
        // persistence does not leave the daemon connected and deaf.
        var subscribe = new MqttClientSubscribeOptionsBuilder().WithTopicFilter(f => f.WithTopic(_filter).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)).Build();
        var granted = await _client!.SubscribeAsync(subscribe, stop).ConfigureAwait(false);
        var code = granted.Items.FirstOrDefault()?.ResultCode;
        if (code is not (MqttClientSubscribeResultCode.GrantedQoS1 or MqttClientSubscribeResultCode.GrantedQoS0 or MqttClientSubscribeResultCode.GrantedQoS2))
        {
            string reason = $"{code?.ToString() ?? "no answer"}{(string.IsNullOrEmpty(granted.ReasonString) ? "" : $" ({granted.ReasonString})")}";
            _log.MqttIntakeSubscribeRefused(_server, _filter, reason);
            throw new MqttCommunicationException($"the broker refused the subscription to {_filter}: {reason}");
        }
        _log.MqttIntakeConnected(_server, _clientId, result.IsSessionPresent, _filter);
    }

    private MqttClientOptions ClientOptions() =>
        MqttClientSettings.Builder(_options, _clientId, _trusted)
            // A persistent session: the broker keeps the subscription and every message not yet acknowledged while the
            // daemon is away (crashed, restarting) and delivers them again when it comes back.
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)_options.IntakeSessionExpirySeconds)
            .WithReceiveMaximum((ushort)_options.IntakeReceiveMaximum)
            .Build();

    /// <summary>MQTTnet's receive loop waits for this handler: it only takes the message (not acknowledged) and returns.</summary>
    private Task OnMessage(MqttApplicationMessageReceivedEventArgs e)
    {
        e.AutoAcknowledge = false;
        _metrics.OnReceived();
        if (!_received.Writer.TryWrite(new Delivery(e, Volatile.Read(ref _generation)))) _metrics.OnLeft(); // stopping
        return Task.CompletedTask;
    }

    private Task OnDisconnected(MqttClientDisconnectedEventArgs e)
    {
        if (!e.ClientWasConnected) return Task.CompletedTask;
        lock (_lock) _lost.TrySetResult();
        if (!_stop.IsCancellationRequested)
        {
            string reason = e.Exception is { } exception ? MqttClientSettings.Describe(exception)
                : !string.IsNullOrEmpty(e.ReasonString) ? $"{e.Reason}: {e.ReasonString}"
                : e.Reason == MqttClientDisconnectReason.NormalDisconnection ? "the broker closed the connection" : e.Reason.ToString();
            _status.ReportError(InspectionMetrics.ErrorTypes.Mqtt, $"MQTT intake: connection to {_server} lost: {reason}");
            _log.MqttIntakeConnectionLost(_server, reason, _metrics.Held);
        }
        return Task.CompletedTask;
    }

    /// <summary>One message at a time into the inbox (each a few fsyncs); their records and acknowledgements overlap.</summary>
    private async Task ProcessAsync(CancellationToken stop)
    {
        await foreach (var delivery in _received.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            if (stop.IsCancellationRequested)
            {
                _metrics.OnLeft(); // not acknowledged: the broker delivers it again at the next start
                continue;
            }
            try
            {
                await TakeAsync(delivery, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                _metrics.OnLeft();
            }
        }
    }

    private async Task TakeAsync(Delivery delivery, CancellationToken stop)
    {
        var message = delivery.Args.ApplicationMessage;
        string topic = message.Topic;
        byte[] payload = message.Payload.ToArray();
        string product = topic.StartsWith(_topicStart, StringComparison.Ordinal) ? topic[_topicStart.Length..] : topic;
        string? name = null, senderId = null;
        var properties = message.UserProperties ?? [];
        foreach (var property in properties)
        {
            if (property.Name == NameProperty) name ??= property.ReadValueAsString();
            else if (property.Name == MessageIdProperty) senderId ??= property.ReadValueAsString();
        }
        string identity = senderId is { Length: > 0 and <= MaxMetadataValue } && !senderId.Any(char.IsControl)
            ? senderId
            : $"{product}/sha256:{Convert.ToHexStringLower(SHA256.HashData(payload))}";

        if (_deliveries.Find(identity) is { } known)
        {
            // Delivered again (after a crash, a reconnect) or sent twice: this daemon took it already.
            _log.MqttIntakeRedelivery(identity, topic, known.SubmissionId, known.Pending is { IsCompleted: false } ? "waiting for its record" : "recorded");
            Track(AcknowledgeAsync(delivery, identity, known.SubmissionId, known.Pending, redelivery: true));
            return;
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in properties)
        {
            if (property.Name is NameProperty or MessageIdProperty) continue;
            string value = property.ReadValueAsString() ?? "";
            string? problem = !MetadataKey().IsMatch(property.Name) ? "the key is not 1-64 letters, digits, '-', '_' or '.'"
                : value.Length > MaxMetadataValue || value.Any(char.IsControl) ? $"the value is longer than {MaxMetadataValue} characters or holds control characters"
                : metadata.ContainsKey(property.Name) ? "given twice (the first is kept)"
                : metadata.Count >= MaxMetadata ? $"more than {MaxMetadata} metadata entries"
                : null;
            if (problem is null) metadata[property.Name] = value;
            else _log.MqttIntakePropertyDropped(identity, topic, property.Name, problem);
        }
        string? quarantine = _products.Contains(product) ? null
            : $"the MQTT topic {topic} names no product of this daemon (products: {_products.NamedList})";
        if (quarantine is not null) _log.MqttIntakeQuarantined(identity, topic, quarantine);
        string? originalName = name is { Length: > 1024 } ? name[..1024] : name;
        var submission = new Submission(product, string.IsNullOrWhiteSpace(originalName) ? null : originalName, Source)
        {
            Metadata = metadata.Count > 0 ? metadata : null,
            MessageId = identity,
            KeepRefused = true,
            Quarantine = quarantine,
        };

        var delay = TimeSpan.FromMilliseconds(_options.ReconnectDelayMs);
        while (true)
        {
            try
            {
                var submitted = await _submissions.SubmitAsync(submission, new MemoryStream(payload, writable: false), stop).ConfigureAwait(false);
                _deliveries.Taken(identity, submitted.Id, submitted.Record);
                _log.MqttIntakeTaken(topic, payload.Length, identity, submitted.Id);
                Track(AcknowledgeAsync(delivery, identity, submitted.Id, submitted.Record, redelivery: false));
                return;
            }
            catch (SubmissionRefusedException e) when (e.Refusal == SubmissionRefusal.NotRunning)
            {
                _metrics.OnLeft(); // stopping: not acknowledged, so the broker delivers it again at the next start
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or SubmissionRefusedException)
            {
                // Disk full, permissions: nothing was kept; the message stays unacknowledged and is tried again.
                _status.ReportError(InspectionMetrics.ErrorTypes.Io, $"MQTT intake: cannot keep message {identity} from {topic}: {e.Message}");
                _log.MqttIntakeKeepFailed(identity, topic, e.Message, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, stop).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, _options.ReconnectMaxDelayMs));
            }
        }
    }

    /// <summary>PUBACK once the record is durable, on the connection the message came on; else its redelivery is acknowledged.</summary>
    private async Task AcknowledgeAsync(Delivery delivery, string identity, string id, Task<InspectionRecord>? record, bool redelivery)
    {
        if (record is not null)
        {
            try
            {
                var recorded = await record.WaitAsync(_stop.Token).ConfigureAwait(false);
                _deliveries.Recorded(identity, recorded.Id);
            }
            catch (FileNotFoundException)
            {
                _log.MqttIntakeVanished(id);
            }
            catch (OperationCanceledException)
            {
                _metrics.OnLeft(); // the daemon stops before the record: the message comes again at the next start
                return;
            }
        }
        if (HoldAcknowledgement?.Invoke(id) == true)
        {
            _metrics.OnLeft();
            return;
        }
        if (delivery.Generation != Volatile.Read(ref _generation) || _client is not { IsConnected: true })
        {
            _log.MqttIntakeAckAfterReconnect(id);
            _metrics.OnLeft();
            return;
        }
        try
        {
            await delivery.Args.AcknowledgeAsync(CancellationToken.None).ConfigureAwait(false);
            _metrics.OnAcknowledged(redelivery);
        }
        catch (Exception e) when (e is MqttCommunicationException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            _log.MqttIntakeAckAfterReconnect(id);
            _metrics.OnLeft();
        }
    }

    private void Track(Task ack)
    {
        lock (_lock) _acks.Add(ack);
        ack.ContinueWith(t =>
        {
            lock (_lock) _acks.Remove(t);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// Registered before the worker, so it stops after it: the records of the worker's last batch are acknowledged, then
    /// the connection is closed cleanly; what is still unacknowledged stays with the session for the next start.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _started.DisposeAsync().ConfigureAwait(false);
        if (_running is null || _client is null) return;
        // The worker has stopped (it stops first): every record this run will write is written, and the acknowledgements
        // of those go out now; the others give up at the cancel and come again at the next start.
        await _stop.CancelAsync().ConfigureAwait(false);
        Task[] acks;
        try { await _running.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        lock (_lock) acks = [.. _acks];
        await Task.WhenAll(acks).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        await DisconnectAsync(cancellationToken).ConfigureAwait(false);
        _log.MqttIntakeStopped(_metrics.Received, _metrics.Acknowledged, _metrics.Redelivered, _metrics.Held);
    }

    private async Task DisconnectAsync(CancellationToken cancel)
    {
        if (_client is not { IsConnected: true }) return;
        try
        {
            // A normal DISCONNECT keeps the session (its expiry was set at connect): unacknowledged messages wait in it.
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MqttCommunicationException or OperationCanceledException or InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        _started.Dispose();
        _stop.Dispose();
        if (_client is not null)
        {
            _client.ApplicationMessageReceivedAsync -= OnMessage;
            _client.DisconnectedAsync -= OnDisconnected;
            _client.Dispose();
        }
        foreach (var certificate in _trusted) certificate.Dispose();
    }

    private sealed record Delivery(MqttApplicationMessageReceivedEventArgs Args, int Generation);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex MetadataKey();
}
