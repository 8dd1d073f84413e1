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

    [BrokerFact]
    public async Task ABankSwitchInTheJournalIsPassedWithoutPublishingItOrCallingItABadLine()
    {
        using var broker = MosquittoBroker.Start();
        await using var subscriber = await TestSubscriber.ConnectAsync(broker.Port, Prefix + "/results/#");
        using var folders = FakeDaemon.NewFolders("A");
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, [.. broker.DaemonArgs(Prefix), "--Inspection:BankPollIntervalMs=200"]))
        {
            folders.DropText("before.png", "0.2");
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
            FakeBank.Write(folders.Bank, "B", threshold: 0.5);
            await Eventually.True(() => daemon.Events(405).Count == 1, "bank B to be loaded");
            folders.DropText("after.png", "0.2");
            await folders.WaitForRecords(2, TimeSpan.FromSeconds(30));
            await subscriber.WaitForAsync(m => m.Count(r => r.Id is not null) >= 2, "both records on the broker");
            await Eventually.True(() => folders.Health().GetProperty("mqtt").GetProperty("lag").GetInt64() == 0, "lag 0");
            Assert.Single(folders.BankSwitches());
            Assert.Empty(daemon.Events(806)); // not reported as a bad line
        }
        Assert.Equal(folders.Records().Select(r => r.GetRawText()), subscriber.Messages.Where(m => m.Id is not null).Select(m => m.Text));
        Assert.DoesNotContain(subscriber.Messages, m => m.Text.Contains("bank-switch", StringComparison.Ordinal));
    }

    [BrokerFact]
    public async Task KillingTheBrokerMidStreamLosesNoRecordAndKeepsJournalOrder()
    {
        const int PerPhase = 30;
        using var broker = MosquittoBroker.Start();
        var subscribed = DateTime.UtcNow;
        await using var subscriber = await TestSubscriber.ConnectAsync(broker.Port, Prefix + "/results/+");
        await broker.WaitForSaveAsync(subscribed); // the subscriber's session outlives the kill
        using var folders = FakeDaemon.NewFolders();
        int dropped = 0;
        async Task DropAsync(int count)
        {
            for (int i = 0; i < count; i++, dropped++)
            {
                folders.DropText($"img{dropped:D3}.png", dropped % 3 == 0 ? "0.8" : "0.2");
                await Task.Delay(15);
            }
        }

        long lagWhileDown;
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, broker.DaemonArgs(Prefix)))
        {
            await DropAsync(PerPhase);
            await subscriber.WaitForAsync(m => m.Count >= 10, "the first records on the broker");
            broker.Kill();
            int journaledAtKill = folders.Records().Count;
            await DropAsync(PerPhase);
            // Scoring does not wait for the broker: every image dropped so far is journaled while it is down.
            await folders.WaitForRecords(2 * PerPhase, TimeSpan.FromSeconds(60));
            await Eventually.True(() => !folders.Health().GetProperty("mqtt").GetProperty("connected").GetBoolean()
                && folders.Health().GetProperty("mqtt").GetProperty("lag").GetInt64() >= 2 * PerPhase - journaledAtKill, "health.json: disconnected, the records since the kill waiting");
            lagWhileDown = folders.Health().GetProperty("mqtt").GetProperty("lag").GetInt64();
            Assert.Contains("the broker closed the connection", Assert.Single(daemon.Events(803)).Message);

            broker.Restart();
            await DropAsync(PerPhase);
            await folders.WaitForRecords(3 * PerPhase, TimeSpan.FromSeconds(60));
            await subscriber.WaitForAsync(m => m.Where(r => r.Id is not null).DistinctBy(r => r.Id).Count() >= 3 * PerPhase, "every record after the broker's restart", TimeSpan.FromSeconds(90));
            await Eventually.True(() => folders.Health().GetProperty("mqtt").GetProperty("lag").GetInt64() == 0, "no lag once the broker is back");
        }

        var journal = File.ReadAllLines(folders.ResultsFile);
        var first = subscriber.FirstCopies();
        // Every record arrived, the first copy of each in journal order, each exactly its journal line.
        Assert.Equal(journal, first.Select(m => m.Text));
        int repeats = subscriber.Messages.Count - first.Count;
        output.WriteLine($"{journal.Length} records, {repeats} published again after the broker's restart; lag while it was down: {lagWhileDown} records");
    }

    [BrokerFact]
    public async Task TheCursorResumesWherePublishingStoppedAndCatchesUpOnRecordsJournaledWithoutABroker()
    {
        using var broker = MosquittoBroker.Start();
        await using var subscriber = await TestSubscriber.ConnectAsync(broker.Port, Prefix + "/results/+");
        using var folders = FakeDaemon.NewFolders();
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, broker.DaemonArgs(Prefix)))
        {
            for (int i = 0; i < 3; i++) folders.DropText($"first{i}.png", "0.2");
            await subscriber.WaitForAsync(m => m.Count >= 3, "the first run's records");
        }
        // A run without MQTT journals more; the next run with MQTT publishes those, and only those.
        await using (var daemon = await FakeDaemon.StartAsync(folders, output))
        {
            for (int i = 0; i < 2; i++) folders.DropText($"second{i}.png", "0.7");
            await folders.WaitForRecords(5, TimeSpan.FromSeconds(30));
        }
        Assert.Equal(3, subscriber.Messages.Count);
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, broker.DaemonArgs(Prefix)))
        {
            await subscriber.WaitForAsync(m => m.Count >= 5, "the records journaled without a broker");
            folders.DropText("third.png", "0.2");
            await subscriber.WaitForAsync(m => m.Count >= 6, "a new record");
        }
        Assert.Equal(File.ReadAllLines(folders.ResultsFile), subscriber.Messages.Select(m => m.Text)); // none twice after clean stops
    }

    [BrokerFact]
    public async Task ACursorLeftFromAReplacedJournalDoesNotSkipTheNewJournalsRecords()
    {
        using var broker = MosquittoBroker.Start();
        await using var subscriber = await TestSubscriber.ConnectAsync(broker.Port, Prefix + "/results/+");
        using var folders = FakeDaemon.NewFolders();
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, broker.DaemonArgs(Prefix)))
        {
            for (int i = 0; i < 2; i++) folders.DropText($"old{i}.png", "0.2");
            await subscriber.WaitForAsync(m => m.Count >= 2, "the old journal's records");
        }
        string oldLastId = subscriber.Messages[1].Id!;
        File.Move(folders.ResultsFile, folders.ResultsFile + ".archived"); // an operator archives the journal
        await using (var daemon = await FakeDaemon.StartAsync(folders, output))
        {
            for (int i = 0; i < 5; i++) folders.DropText($"new{i}.png", "0.2");
            await folders.WaitForRecords(5, TimeSpan.FromSeconds(30));
        }
        // The old cursor as it would be if its offset fell on a line end of the new journal (records of about one
        // length make that likely): only the record id it names tells it is not this journal's.
        byte[] journal = File.ReadAllBytes(folders.ResultsFile);
        int secondLineEnd = Array.IndexOf(journal, (byte)'\n', Array.IndexOf(journal, (byte)'\n') + 1) + 1;
        File.WriteAllText(Path.Combine(folders.Outbox, ".inspection", PublishCursor.FileName),
            $$"""{"offset":{{secondLineEnd}},"lastId":"{{oldLastId}}","updatedAt":"2025-01-01T00:00:00+00:00"}""");

        await using (var daemon = await FakeDaemon.StartAsync(folders, output, broker.DaemonArgs(Prefix)))
        {
            await subscriber.WaitForAsync(m => m.Count >= 7, "every record of the new journal");
            var reset = Assert.Single(daemon.Events(807));
            Assert.Contains($"not {oldLastId}", reset.Message);
        }
        Assert.Equal(File.ReadAllLines(folders.ResultsFile), subscriber.Messages.Skip(2).Select(m => m.Text));
    }

    [BrokerFact]
    public async Task ARecordIsNotPublishedBeforeItsBatchIsFinishedSinceAFailedAppendWouldBeCutBack()
    {
        using var broker = MosquittoBroker.Start();
        await using var subscriber = await TestSubscriber.ConnectAsync(broker.Port, Prefix + "/results/+");
        using var folders = FakeDaemon.NewFolders();
        await using var daemon = await FakeDaemon.StartAsync(folders, output, broker.DaemonArgs(Prefix));
        folders.DropText("before.png", "0.2");
        await subscriber.WaitForAsync(m => m.Count >= 1, "the first record");

        // The next batch's move is refused four times (retried with backoff, 1.5 s in all): its record is journaled,
        // the checkpoint is not advanced, so the publisher must not send it yet.
        daemon.Mover.Plan.FailCalls(FailurePlan.PermissionDenied, 2, 3, 4, 5);
        var seenDuringRetries = new List<int>();
        daemon.Mover.BeforeMove = record =>
        {
            if (record.OriginalName == "stuck.png") seenDuringRetries.Add(subscriber.Messages.Count);
        };
        folders.DropText("stuck.png", "0.7");
        await folders.WaitForRecords(2, TimeSpan.FromSeconds(30));
        await subscriber.WaitForAsync(m => m.Count >= 2, "the record once its batch is finished");
        Assert.Equal(4, daemon.Mover.Plan.Failed);
        Assert.Equal([1, 1, 1, 1, 1], seenDuringRetries); // four refused attempts and the one that moved it
        Assert.Equal("stuck.png", subscriber.Messages[1].Json().GetProperty("originalName").GetString());
    }

    [BrokerFact]
    public async Task WithAPasswordFileTheRightCredentialsPublishAndWrongOnesAreReportedWhileScoringGoesOn()
    {
        using var broker = MosquittoBroker.Start(users: new Dictionary<string, string> { ["station3"] = "s3cret" });
        using var folders = FakeDaemon.NewFolders();
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, broker.DaemonArgs(Prefix, "--Inspection:Mqtt:Username=station3", "--Inspection:Mqtt:Password=wrong")))
        {
            folders.DropText("a.png", "0.2");
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
            // Mosquitto answers a wrong password with "not authorised" (MQTT 5 reason 0x87).
            await Eventually.True(() => folders.Health().GetProperty("mqtt").GetProperty("lastError").GetString()?.Contains("refused the connection: NotAuthorized", StringComparison.Ordinal) == true,
                "health.json naming the refusal");
            await Eventually.True(() => folders.Health().GetProperty("mqtt").GetProperty("lag").GetInt64() == 1, "health.json: the record waiting");
            Assert.False(folders.Health().GetProperty("mqtt").GetProperty("connected").GetBoolean());
            Assert.NotEmpty(daemon.Events(802));
            Assert.Single(daemon.Events(811)); // the password goes without TLS: said once, at start
        }
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, broker.DaemonArgs(Prefix, "--Inspection:Mqtt:Username=station3", "--Inspection:Mqtt:Password=s3cret")))
        {
            await Eventually.True(() => folders.Health().GetProperty("mqtt").GetProperty("published").GetInt64() == 1, "the waiting record published with the right password");
        }
    }

    [BrokerFact]
    public async Task OverTlsTheBrokersCertificateIsCheckedAgainstCaFile()
    {
        string certificates = Directory.CreateTempSubdirectory("patchcore-certificates-").FullName;
        try
        {
            var tls = BrokerCertificates.Create(certificates);
            using var broker = MosquittoBroker.Start(tls: tls);
            using var folders = FakeDaemon.NewFolders();
            folders.DropText("a.png", "0.2");
            // Without the CA the system's roots do not know the broker: refused, reported, and scoring goes on.
            await using (var daemon = await FakeDaemon.StartAsync(folders, output, broker.DaemonArgs(Prefix, "--Inspection:Mqtt:UseTls=true")))
            {
                await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
                await Eventually.True(() => folders.Health().GetProperty("mqtt").GetProperty("lastError").GetString() is { } e && e.Contains("Cannot connect", StringComparison.Ordinal),
                    "a refused certificate in health.json");
                Assert.False(folders.Health().GetProperty("mqtt").GetProperty("connected").GetBoolean());
            }
            await using (var daemon = await FakeDaemon.StartAsync(folders, output, broker.DaemonArgs(Prefix, "--Inspection:Mqtt:UseTls=true", $"--Inspection:Mqtt:CaFile={tls.CaFile}")))
            {
                await Eventually.True(() => folders.Health().GetProperty("mqtt").GetProperty("published").GetInt64() == 1, "the record published over TLS");
            }
        }
        finally
        {
            Directory.Delete(certificates, recursive: true);
        }
    }

    [Fact]
    public async Task BadMqttSettingsStopTheStartNamingEachKey()
    {
        using var folders = FakeDaemon.NewFolders();
        string missingCa = Path.Combine(folders.Root, "no-ca.pem");
        string notPem = Path.Combine(folders.Root, "not.pem");
        File.WriteAllText(notPem, "hello");
        await using (var daemon = new FakeDaemon(folders, output, "--Inspection:Mqtt:Server=mqtt://broker:1883", "--Inspection:Mqtt:Port=0",
            "--Inspection:Mqtt:TopicPrefix=plant/+/station", "--Inspection:Mqtt:KeepAliveSeconds=1", "--Inspection:Mqtt:CaFile=" + missingCa,
            "--Inspection:Mqtt:ReconnectDelayMs=5000", "--Inspection:Mqtt:ReconnectMaxDelayMs=1000"))
        {
            var e = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(daemon.StartAsync);
            foreach (string failure in e.Failures) output.WriteLine(failure);
            Assert.Equal(
            [
                "Inspection:Mqtt:Server must be a host name or an IP address, without a scheme or a port (got 'mqtt://broker:1883'); the port is Inspection:Mqtt:Port.",
                "Inspection:Mqtt:Port must be between 1 and 65535 (got 0).",
                "Inspection:Mqtt:TopicPrefix must not hold the wildcards + or # (got 'plant/+/station').",
                "Inspection:Mqtt:KeepAliveSeconds must be between 5 and 65535 (got 1).",
                "Inspection:Mqtt:ReconnectMaxDelayMs (1000) is below Inspection:Mqtt:ReconnectDelayMs (5000).",
                "Inspection:Mqtt:CaFile is set but Inspection:Mqtt:UseTls is false: the CA is only used over TLS.",
            ], e.Failures);
        }
        foreach (var (args, expected) in new (string[] Args, string Expected)[]
        {
            (["--Inspection:Mqtt:Server=localhost"], "Inspection:Mqtt:TopicPrefix is required when Inspection:Mqtt:Server is set"),
            (["--Inspection:Mqtt:Server=localhost", "--Inspection:Mqtt:TopicPrefix=/plant/line1"], "Inspection:Mqtt:TopicPrefix must not start or end with /"),
            (["--Inspection:Mqtt:Server=localhost", "--Inspection:Mqtt:TopicPrefix=$SYS/x"], "Inspection:Mqtt:TopicPrefix must not start with $"),
            (["--Inspection:Mqtt:Server=localhost", "--Inspection:Mqtt:TopicPrefix=p", "--Inspection:Mqtt:UseTls=true", "--Inspection:Mqtt:CaFile=" + missingCa], $"Inspection:Mqtt:CaFile: {missingCa} does not exist."),
            (["--Inspection:Mqtt:Server=localhost", "--Inspection:Mqtt:TopicPrefix=p", "--Inspection:Mqtt:UseTls=true", "--Inspection:Mqtt:CaFile=" + notPem], $"Inspection:Mqtt:CaFile: {notPem} holds no PEM certificate"),
        })
        {
            await using var daemon = new FakeDaemon(folders, output, args);
            var e = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(daemon.StartAsync);
            Assert.Contains(e.Failures, f => f.StartsWith(expected, StringComparison.Ordinal));
        }
        // Without a Server nothing about MQTT is checked or started: no "mqtt" in health.json.
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, "--Inspection:Mqtt:TopicPrefix=+"))
        {
            folders.DropText("a.png", "0.2");
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
            await Eventually.True(() => folders.Health().GetProperty("processed").GetInt64() == 1, "health.json");
            Assert.False(folders.Health().TryGetProperty("mqtt", out _));
        }
    }
}
