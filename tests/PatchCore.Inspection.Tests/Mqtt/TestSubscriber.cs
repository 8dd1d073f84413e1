using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using Xunit;

namespace PatchCore.Inspection.Tests.Mqtt;

/// <summary>
/// An independent MQTT client that subscribes and keeps every message it receives, in order. It connects again
/// whenever the broker goes away, with a persistent session (clean start off, one hour's expiry), so a broker with
/// persistence keeps queuing for it while it is disconnected, as a plant's consumer would be set up.
/// </summary>
internal sealed class TestSubscriber : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _options;
    private readonly string _filter;
    private readonly List<ReceivedMessage> _messages = [];
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _reconnecting;

    private TestSubscriber(IMqttClient client, MqttClientOptions options, string filter)
    {
        _client = client;
        _options = options;
        _filter = filter;
        _client.ApplicationMessageReceivedAsync += e =>
        {
            var m = e.ApplicationMessage;
            string? id = m.UserProperties?.FirstOrDefault(p => p.Name == "id")?.ReadValueAsString();
            var message = new ReceivedMessage(m.Topic, System.Buffers.BuffersExtensions.ToArray(m.Payload), m.Retain, id, m.QualityOfServiceLevel, m.ContentType, DateTimeOffset.UtcNow);
            lock (_messages) _messages.Add(message);
            return Task.CompletedTask;
        };
        _reconnecting = Task.Run(KeepConnectedAsync);
    }

    /// <summary>Every message so far, in the order received.</summary>
    public IReadOnlyList<ReceivedMessage> Messages
    {
        get { lock (_messages) return [.. _messages]; }
    }

    public static async Task<TestSubscriber> ConnectAsync(int port, string filter, string? clientId = null)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId(clientId ?? "test-subscriber-" + Guid.NewGuid().ToString("N")[..8])
            .WithCleanStart(false)
            .WithSessionExpiryInterval(3600)
            .Build();
        var subscriber = new TestSubscriber(client, options, filter);
        await Fakes.Eventually.True(() => client.IsConnected, $"the test subscriber connected to port {port}", TimeSpan.FromSeconds(20));
        return subscriber;
    }

    /// <summary>The message payloads that are JSON records, deduplicated by record id (first copy kept), in order of first arrival.</summary>
    public List<ReceivedMessage> FirstCopies() =>
        Messages.Where(m => m.Id is not null).DistinctBy(m => m.Id).ToList();

    public Task WaitForAsync(Func<IReadOnlyList<ReceivedMessage>, bool> condition, string what, TimeSpan? timeout = null) =>
        Fakes.Eventually.True(() => condition(Messages), what, timeout ?? TimeSpan.FromSeconds(60));

    private async Task KeepConnectedAsync()
    {
        while (!_closing.IsCancellationRequested)
        {
            if (!_client.IsConnected)
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
                    timeout.CancelAfter(TimeSpan.FromSeconds(5));
                    var result = await _client.ConnectAsync(_options, timeout.Token);
                    if (result.ResultCode == MqttClientConnectResultCode.Success && !result.IsSessionPresent)
                        await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                            .WithTopicFilter(f => f.WithTopic(_filter).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)).Build(), _closing.Token);
                }
                catch (Exception) when (!_closing.IsCancellationRequested)
                {
                    // The broker is down: try again shortly.
                }
            }
            try { await Task.Delay(50, _closing.Token); }
            catch (OperationCanceledException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        await _reconnecting;
        if (_client.IsConnected)
        {
            try { await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build()); }
            catch (Exception) { }
        }
        _client.Dispose();
        _closing.Dispose();
    }
}

/// <summary>One message as the subscriber got it, and when; <see cref="Id"/> is the "id" user property the daemon sets on results.</summary>
internal sealed record ReceivedMessage(string Topic, byte[] Payload, bool Retain, string? Id, MqttQualityOfServiceLevel QoS, string? ContentType, DateTimeOffset ReceivedAt)
{
    public string Text => Encoding.UTF8.GetString(Payload);

    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Payload);
        return document.RootElement.Clone();
    }
}
