using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using PatchCore.Inspection.Publishing;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Mqtt;

/// <summary>
/// Results to a real Mosquitto broker from the daemon's host with the fake scorer: what is published where, the retained
/// status, the cursor across restarts, and the journal staying the truth when the broker goes away.
/// </summary>
public sealed class MqttPublishingTests(ITestOutputHelper output)
{
    private const string Prefix = "plant/line1/station3";

    [BrokerFact]
    public async Task EveryRecordIsPublishedAsItsJournalLineToItsProductsTopicInJournalOrder()
    {
        using var broker = MosquittoBroker.Start();
        await using var subscriber = await TestSubscriber.ConnectAsync(broker.Port, Prefix + "/#");
        using var folders = FakeDaemon.NewFolders("A");
        FakeBank.Write(folders.ProductBank("cap"), "C", threshold: 0.5);
        string[] names = ["a.png", "b.png", "c.png", "cap/d.png", "cap/e.png", "zzz/f.png"];
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, [.. broker.DaemonArgs(Prefix), .. folders.ProductArgs("cap")]))
        {
            using var published = new MetricCollector<long>(daemon.Metrics.Meter, PublishingMetrics.PublishedName);
            folders.DropText("a.png", "0.2");
            folders.DropText("b.png", "0.7");
            folders.DropText("c.png", "not an image");
            folders.DropText("cap", "d.png", "0.9");
            folders.DropText("cap", "e.png", "0.1");
            folders.DropText("zzz", "f.png", "0.3");
            await folders.WaitForRecords(names.Length, TimeSpan.FromSeconds(30));
            await subscriber.WaitForAsync(m => m.Count(r => r.Id is not null) >= names.Length, "every record on the broker");
            await Eventually.True(() => folders.Health().GetProperty("mqtt").GetProperty("lag").GetInt64() == 0
                && folders.Health().GetProperty("mqtt").GetProperty("published").GetInt64() == names.Length, "health.json: published 6, lag 0");
            Assert.Equal(names.Length, published.GetMeasurementSnapshot().EvaluateAsCounter());
            var mqtt = folders.Health().GetProperty("mqtt");
            Assert.True(mqtt.GetProperty("connected").GetBoolean());
            Assert.Equal($"127.0.0.1:{broker.Port}", mqtt.GetProperty("server").GetString());
            Assert.Equal(Prefix, mqtt.GetProperty("topicPrefix").GetString());
            Assert.Equal(new FileInfo(folders.ResultsFile).Length, mqtt.GetProperty("cursor").GetInt64());

            await subscriber.WaitForAsync(m => m.Any(s => s.Topic == Prefix + "/status" && s.Json().GetProperty("counts").GetProperty("processed").GetInt64() == names.Length),
                "a status with every image counted");
        }

        // Exactly the journal's lines, in its order, each on its product's topic; no product: the _none level.
        var journal = File.ReadAllLines(folders.ResultsFile);
        var results = subscriber.Messages.Where(m => m.Id is not null).ToList();
        Assert.Equal(journal, results.Select(m => m.Text));
        string[] expectedTopics = [.. journal.Select(line => JsonDocument.Parse(line).RootElement.TryGetProperty("product", out var p) ? p.GetString()! : MqttTopics.NoProduct)
            .Select(product => $"{Prefix}/results/{product}")];
        Assert.Equal(expectedTopics, results.Select(m => m.Topic));
        Assert.Contains($"{Prefix}/results/_none", expectedTopics);
        Assert.Contains($"{Prefix}/results/cap", expectedTopics);
        Assert.All(results, m =>
        {
            Assert.Equal(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce, m.QoS);
            Assert.Equal("application/json", m.ContentType);
            Assert.Equal(m.Json().GetProperty("id").GetString(), m.Id);
        });

        // The status: online while running (bank ids, counts), offline with the final counts on the clean stop.
        var statuses = subscriber.Messages.Where(m => m.Topic == Prefix + "/status").Select(m => m.Json()).ToList();
        var online = statuses.Last(s => s.GetProperty("state").GetString() == "online");
        Assert.Equal("A", online.GetProperty("banks").GetProperty("default").GetString());
        Assert.Equal("C", online.GetProperty("banks").GetProperty("cap").GetString());
        Assert.Equal("running", online.GetProperty("daemon").GetString());
        var last = statuses[^1];
        Assert.Equal("offline", last.GetProperty("state").GetString());
        Assert.Equal("stopped", last.GetProperty("reason").GetString());
        Assert.Equal(names.Length, last.GetProperty("counts").GetProperty("processed").GetInt64());
        Assert.Equal(2, last.GetProperty("counts").GetProperty("quarantined").GetInt64()); // not an image; a folder that is no product

        // Retained: a client that subscribes after the stop still learns the station is offline.
        await using var late = await TestSubscriber.ConnectAsync(broker.Port, Prefix + "/status");
        await late.WaitForAsync(m => m.Count > 0, "the retained status");
        Assert.True(late.Messages[0].Retain);
        Assert.Equal("offline", late.Messages[0].Json().GetProperty("state").GetString());
    }
}
