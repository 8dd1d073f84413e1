using MQTTnet;
using MQTTnet.Protocol;

namespace PatchCore.Inspection.Tests.Mqtt;

/// <summary>An independent MQTT 5 client that publishes image messages (QoS 1) as a camera or a line controller would.</summary>
internal sealed class TestPublisher : IAsyncDisposable
{
    private readonly IMqttClient _client;

    private TestPublisher(IMqttClient client) => _client = client;

    public static async Task<TestPublisher> ConnectAsync(int port)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId("test-publisher-" + Guid.NewGuid().ToString("N")[..8])
            .Build());
        return new TestPublisher(client);
    }

    /// <summary>Publishes with QoS 1 and returns once the broker has acknowledged it; the properties become user properties.</summary>
    public async Task PublishAsync(string topic, byte[] payload, params (string Name, string Value)[] properties)
    {
        var builder = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        foreach (var (name, value) in properties) builder.WithUserProperty(name, System.Text.Encoding.UTF8.GetBytes(value).AsMemory());
        var result = await _client.PublishAsync(builder.Build());
        if (!result.IsSuccess) throw new InvalidOperationException($"the broker refused the message to {topic}: {result.ReasonCode}");
    }

    public Task PublishAsync(string topic, string text, params (string Name, string Value)[] properties) =>
        PublishAsync(topic, System.Text.Encoding.UTF8.GetBytes(text), properties);

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected) await _client.DisconnectAsync();
        _client.Dispose();
    }
}
