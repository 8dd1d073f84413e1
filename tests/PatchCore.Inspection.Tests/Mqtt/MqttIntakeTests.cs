using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Publishing;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Mqtt;

/// <summary>
/// Images in over MQTT, with a real Mosquitto broker, an independent publisher and the daemon's host with the fake
/// scorer (a payload "0.7" is an image of score 0.7; anything else is not an image).
/// </summary>
public sealed class MqttIntakeTests(ITestOutputHelper output)
{
    private const string Prefix = "plant/line1/station3";

    private static string[] IntakeArgs(MosquittoBroker broker, params string[] more) =>
        broker.DaemonArgs(Prefix, ["--Inspection:Mqtt:Intake=true", "--Inspection:Mqtt:Group=line1", .. more]);

    private static long Counter(FakeDaemon daemon, string name) => name switch
    {
        MqttIntakeMetrics.AcknowledgedName => daemon.Host.Services.GetRequiredService<MqttIntakeMetrics>().Acknowledged,
        MqttIntakeMetrics.RedeliveredName => daemon.Host.Services.GetRequiredService<MqttIntakeMetrics>().Redelivered,
        MqttIntakeMetrics.HeldName => daemon.Host.Services.GetRequiredService<MqttIntakeMetrics>().Held,
        _ => daemon.Host.Services.GetRequiredService<MqttIntakeMetrics>().Received,
    };

    private static async Task WaitSubscribed(FakeDaemon daemon) =>
        await Eventually.True(() => daemon.Events(820).Count > 0, "the intake subscribed (event 820)", TimeSpan.FromSeconds(30));

    [BrokerFact]
    public async Task PublishedImagesGetOneRecordEachWithTheirNameAndMetadataAndBadOnesAreQuarantinedWithAReason()
    {
        using var broker = MosquittoBroker.Start();
        using var folders = FakeDaemon.NewFolders("A");
        FakeBank.Write(folders.ProductBank("cap"), "C", threshold: 0.5);
        await using var daemon = await FakeDaemon.StartAsync(folders, output, [.. IntakeArgs(broker, "--Inspection:MaxFileBytes=64"), .. folders.ProductArgs("cap")]);
        await WaitSubscribed(daemon);
        await using var camera = await TestPublisher.ConnectAsync(broker.Port);
        await camera.PublishAsync($"{Prefix}/images/default", "0.2", ("name", "part-0001.png"), ("messageId", "cam1-0001"), ("serial", "SN-42"), ("line", "L1"));
        await camera.PublishAsync($"{Prefix}/images/cap", "0.9", ("name", "cap/../../etc/part-0002.png"), ("bad key!", "x"));
        await camera.PublishAsync($"{Prefix}/images/default", "this is no image", ("name", "text.png"));
        await camera.PublishAsync($"{Prefix}/images/default", new string('7', 100), ("name", "huge.png"));
        await camera.PublishAsync($"{Prefix}/images/default", [], ("name", "empty.png"));
        await camera.PublishAsync($"{Prefix}/images/screw", "0.1", ("name", "screw.png"));
        var records = await folders.WaitForRecords(6, TimeSpan.FromSeconds(30));
        await Eventually.True(() => Counter(daemon, MqttIntakeMetrics.AcknowledgedName) == 6, "6 acknowledgements");
        Assert.Equal(0, Counter(daemon, MqttIntakeMetrics.HeldName));
        await Eventually.True(() => folders.Health().GetProperty("mqtt").TryGetProperty("intake", out var i) && i.GetProperty("acknowledged").GetInt64() == 6,
            "health.json: mqtt.intake.acknowledged 6");
        var intake = folders.Health().GetProperty("mqtt").GetProperty("intake");
        Assert.Equal($"$share/line1/{Prefix}/images/+", intake.GetProperty("subscription").GetString());
        Assert.True(intake.GetProperty("connected").GetBoolean());
        Assert.Equal(6, intake.GetProperty("received").GetInt64());
        Assert.Equal(0, intake.GetProperty("held").GetInt64());

        JsonElement Of(string name) => records.Single(r => r.GetProperty("originalName").GetString() == name);
        var first = Of("part-0001.png");
        Assert.Equal("ok", first.GetProperty("verdict").GetString());
        Assert.Equal("default", first.GetProperty("product").GetString());
        var origin = first.GetProperty("submission");
        Assert.Equal("mqtt", origin.GetProperty("source").GetString());
        Assert.Equal("cam1-0001", origin.GetProperty("messageId").GetString());
        Assert.Equal("SN-42", origin.GetProperty("metadata").GetProperty("serial").GetString());
        Assert.Equal("L1", origin.GetProperty("metadata").GetProperty("line").GetString());
        Assert.Equal(DaemonFolders.Sha256Of("0.2"), first.GetProperty("sha256").GetString());

        // The name is data, never a path; a bad metadata key is left out; without messageId the identity is the payload's hash.
        var second = Of("part-0002.png");
        Assert.Equal("ng", second.GetProperty("verdict").GetString());
        Assert.Equal("cap", second.GetProperty("product").GetString());
        Assert.StartsWith(Path.Combine(folders.Outbox, "cap", "ng"), second.GetProperty("path").GetString());
        Assert.False(second.GetProperty("submission").TryGetProperty("metadata", out _));
        Assert.Equal("cap/sha256:" + DaemonFolders.Sha256Of("0.9"), second.GetProperty("submission").GetProperty("messageId").GetString());

        Assert.Equal("quarantined", Of("text.png").GetProperty("verdict").GetString());
        Assert.Contains("not an image", Of("text.png").GetProperty("reason").GetString());
        Assert.Equal("quarantined", Of("huge.png").GetProperty("verdict").GetString());
        Assert.Contains("file too large: 100 bytes", Of("huge.png").GetProperty("reason").GetString());
        Assert.Equal("quarantined", Of("empty.png").GetProperty("verdict").GetString());
        Assert.Equal("zero-byte file", Of("empty.png").GetProperty("reason").GetString());
        var screw = Of("screw.png");
        Assert.Equal("quarantined", screw.GetProperty("verdict").GetString());
        Assert.Contains("names no product of this daemon", screw.GetProperty("reason").GetString());
        Assert.False(screw.TryGetProperty("product", out _));
        Assert.Equal("mqtt", screw.GetProperty("submission").GetProperty("source").GetString());
        foreach (var record in records)
        {
            Assert.True(File.Exists(record.GetProperty("path").GetString()), $"{record.GetProperty("originalName")} not at its path");
            Assert.Equal("mqtt", record.GetProperty("submission").GetProperty("source").GetString());
        }
        Assert.Empty(folders.InboxImages());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(folders.Inbox, ".inspection", "uploads")));
    }

    [BrokerFact]
    public async Task AMessageIsAcknowledgedOnlyAfterItsRecordAndAnUnacknowledgedOneComesAgainAfterARestartWithoutASecondRecord()
    {
        using var broker = MosquittoBroker.Start();
        using var folders = FakeDaemon.NewFolders("A");
        await using var camera = await TestPublisher.ConnectAsync(broker.Port);
        using var release = new ManualResetEventSlim();
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, IntakeArgs(broker)))
        {
            await WaitSubscribed(daemon);
            daemon.Script.BeforeScoring = _ => release.Wait(TimeSpan.FromSeconds(30));
            await camera.PublishAsync($"{Prefix}/images/default", "0.3", ("name", "held.png"), ("messageId", "held-1"));
            await Eventually.True(() => daemon.Script.Calls.Count > 0, "the batch started scoring");
            await Task.Delay(300);
            // Taken (in the inbox, with its ticket) and being scored: no record yet, so no acknowledgement.
            Assert.Empty(folders.Records());
            Assert.Equal(1, Counter(daemon, MqttIntakeMetrics.HeldName));
            Assert.Equal(0, Counter(daemon, MqttIntakeMetrics.AcknowledgedName));
            release.Set();
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(20));
            await Eventually.True(() => Counter(daemon, MqttIntakeMetrics.AcknowledgedName) == 1, "the acknowledgement after the record");

            // The next one is taken but its batch fails over and over: the daemon stops with it unacknowledged.
            daemon.Script.BeforeScoring = _ => { };
            daemon.Script.FailNextCalls(1_000_000);
            await camera.PublishAsync($"{Prefix}/images/default", "0.4", ("name", "stopped.png"), ("messageId", "stopped-1"));
            await Eventually.True(() => Counter(daemon, MqttIntakeMetrics.ReceivedName) == 2 && daemon.Script.Calls.Count > 1, "the second message taken and tried");
            Assert.Single(folders.Records());
            Assert.Equal(1, Counter(daemon, MqttIntakeMetrics.AcknowledgedName));
        }

        // The broker kept it in the intake's session and delivers it again; its ticket (an accepted submission) is
        // recorded once, and the redelivery is acknowledged without a second submission.
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, IntakeArgs(broker)))
        {
            await folders.WaitForRecords(2, TimeSpan.FromSeconds(30));
            await Eventually.True(() => Counter(daemon, MqttIntakeMetrics.AcknowledgedName) == 1, "the redelivery acknowledged");
            Assert.Equal(1, Counter(daemon, MqttIntakeMetrics.RedeliveredName));
            Assert.Single(daemon.Events(824));
            Assert.Empty(daemon.Events(830)); // acknowledged on the connection it came on
            await Task.Delay(500);
            var records = folders.Records();
            Assert.Equal(["held.png", "stopped.png"], records.Select(r => r.GetProperty("originalName").GetString()));
            Assert.Equal("stopped-1", records[1].GetProperty("submission").GetProperty("messageId").GetString());
        }

        // Nothing is left with the session: a third start receives nothing.
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, IntakeArgs(broker)))
        {
            await WaitSubscribed(daemon);
            await Task.Delay(1000);
            Assert.Equal(0, Counter(daemon, MqttIntakeMetrics.ReceivedName));
            Assert.Equal(2, folders.Records().Count);
        }
    }

    [BrokerFact]
    public async Task AMessageThatComesAgainAfterItsRecordIsAcknowledgedWithoutASecondRecordAlsoAfterARestart()
    {
        using var broker = MosquittoBroker.Start();
        using var folders = FakeDaemon.NewFolders("A");
        await using var camera = await TestPublisher.ConnectAsync(broker.Port);
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, IntakeArgs(broker)))
        {
            await WaitSubscribed(daemon);
            await camera.PublishAsync($"{Prefix}/images/default", "0.2", ("name", "a.png"), ("messageId", "m-1"));
            await camera.PublishAsync($"{Prefix}/images/default", "0.6", ("name", "b.png")); // identity: its hash
            await folders.WaitForRecords(2, TimeSpan.FromSeconds(20));
            // The same messages again, as a broker redelivers them after a crash between the record and the PUBACK.
            await camera.PublishAsync($"{Prefix}/images/default", "0.2", ("name", "a.png"), ("messageId", "m-1"));
            await camera.PublishAsync($"{Prefix}/images/default", "0.6", ("name", "b.png"));
            await Eventually.True(() => Counter(daemon, MqttIntakeMetrics.AcknowledgedName) == 4, "4 acknowledgements");
            Assert.Equal(2, Counter(daemon, MqttIntakeMetrics.RedeliveredName));
        }
        // After a restart the journal's end tells the same: no second record.
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, IntakeArgs(broker)))
        {
            await WaitSubscribed(daemon);
            Assert.Contains("2 message identities", daemon.Events(828).Single().Message);
            await camera.PublishAsync($"{Prefix}/images/default", "0.2", ("name", "a.png"), ("messageId", "m-1"));
            await camera.PublishAsync($"{Prefix}/images/default", "0.2", ("name", "c.png"), ("messageId", "m-2")); // same bytes, another message
            await Eventually.True(() => Counter(daemon, MqttIntakeMetrics.AcknowledgedName) == 2, "2 acknowledgements");
            await folders.WaitForRecords(3, TimeSpan.FromSeconds(20));
            Assert.Equal(1, Counter(daemon, MqttIntakeMetrics.RedeliveredName));
        }
        Assert.Equal(["a.png", "b.png", "c.png"], folders.Records().Select(r => r.GetProperty("originalName").GetString()));
    }

    private static MqttImageIntake Intake(FakeDaemon daemon) =>
        daemon.Host.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<MqttImageIntake>().Single();

    [BrokerFact]
    public async Task ADaemonThatDiesBetweenTheRecordAndThePubackGetsTheMessageAgainAndWritesNoSecondRecord()
    {
        using var broker = MosquittoBroker.Start();
        using var folders = FakeDaemon.NewFolders("A");
        await using var camera = await TestPublisher.ConnectAsync(broker.Port);
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, IntakeArgs(broker)))
        {
            await WaitSubscribed(daemon);
            Intake(daemon).HoldAcknowledgement = _ => true; // the record is fsynced, the PUBACK never leaves
            await camera.PublishAsync($"{Prefix}/images/default", "0.3", ("name", "window.png"), ("messageId", "w-1"));
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(20));
            await Task.Delay(300);
            Assert.Equal(0, Counter(daemon, MqttIntakeMetrics.AcknowledgedName));
        }
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, IntakeArgs(broker)))
        {
            await Eventually.True(() => Counter(daemon, MqttIntakeMetrics.AcknowledgedName) == 1, "the redelivery acknowledged");
            Assert.Equal(1, Counter(daemon, MqttIntakeMetrics.RedeliveredName));
            Assert.Contains("(recorded)", daemon.Events(824).Single().Message);
            Assert.Empty(daemon.Events(830));
            await Task.Delay(500);
            Assert.Single(folders.Records());
        }
    }

    [BrokerFact]
    public async Task WhenTheSessionOfADaemonThatDiedInTheWindowExpiresAnotherMemberMayRecordItAgainWithTheSameHashAndMessageId()
    {
        using var broker = MosquittoBroker.Start();
        using var folders = FakeDaemon.NewFolders("A");
        using var other = FakeDaemon.NewFolders("A");
        await using var camera = await TestPublisher.ConnectAsync(broker.Port);
        await using var b = await FakeDaemon.StartAsync(other, output, IntakeArgs(broker));
        await WaitSubscribed(b);
        b.Script.BeforeScoring = _ => { };
        await using (var a = await FakeDaemon.StartAsync(folders, output, IntakeArgs(broker, "--Inspection:Mqtt:IntakeSessionExpirySeconds=1")))
        {
            await WaitSubscribed(a);
            Intake(a).HoldAcknowledgement = _ => true;
            // The broker alternates between the members: publish until A has taken one.
            for (int i = 0; folders.Records().Count == 0 && i < 10; i++)
            {
                await camera.PublishAsync($"{Prefix}/images/default", "0.3", ("name", $"w{i}.png"), ("messageId", $"w-{i}"));
                await Task.Delay(300);
            }
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(20));
        }
        // A is gone for good and its session expires (1 s): where does its unacknowledged message go?
        var mine = folders.Records().Single();
        string messageId = mine.GetProperty("submission").GetProperty("messageId").GetString()!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(8);
        JsonElement? again = null;
        while (DateTime.UtcNow < deadline && again is null)
        {
            again = other.Records().Cast<JsonElement?>().FirstOrDefault(r => r!.Value.GetProperty("submission").GetProperty("messageId").GetString() == messageId);
            await Task.Delay(200);
        }
        if (again is { } second)
        {
            // The documented duplicate: a second record in the other outbox, recognisable by hash and message id only.
            Assert.Equal(mine.GetProperty("sha256").GetString(), second.GetProperty("sha256").GetString());
            Assert.NotEqual(mine.GetProperty("id").GetString(), second.GetProperty("id").GetString());
            Assert.False(second.TryGetProperty("duplicateOf", out _));
        }
        output.WriteLine(again is null
            ? $"Mosquitto did not hand message {messageId} to the other member within 8 s of the session's expiry: one record (A's)"
            : $"message {messageId}: recorded by A (died before its PUBACK, session expired) and again by B: same sha256 and messageId, two record ids");
        Assert.Single(folders.Records());
    }

    [BrokerFact]
    public async Task TheBrokerHandsNoMoreThanTheReceiveMaximumWhileNothingIsAcknowledged()
    {
        using var broker = MosquittoBroker.Start();
        using var folders = FakeDaemon.NewFolders("A");
        using var release = new ManualResetEventSlim();
        await using var daemon = await FakeDaemon.StartAsync(folders, output, IntakeArgs(broker, "--Inspection:Mqtt:IntakeReceiveMaximum=4"));
        await WaitSubscribed(daemon);
        daemon.Script.BeforeScoring = _ => release.Wait(TimeSpan.FromSeconds(30));
        await using var camera = await TestPublisher.ConnectAsync(broker.Port);
        for (int i = 0; i < 12; i++) await camera.PublishAsync($"{Prefix}/images/default", "0.1", ("name", $"p{i}.png"), ("messageId", $"p-{i}"));
        await Eventually.True(() => Counter(daemon, MqttIntakeMetrics.ReceivedName) >= 4, "4 messages received");
        await Task.Delay(1000);
        output.WriteLine($"received while nothing was acknowledged: {Counter(daemon, MqttIntakeMetrics.ReceivedName)}");
        Assert.Equal(4, Counter(daemon, MqttIntakeMetrics.ReceivedName));
        // Flowing: each acknowledgement lets one more in, never more than 4 at once.
        daemon.Script.BeforeScoring = _ => Thread.Sleep(50);
        release.Set();
        for (int i = 12; i < 40; i++) await camera.PublishAsync($"{Prefix}/images/default", "0.1", ("name", $"p{i}.png"), ("messageId", $"p-{i}"));
        long most = 0;
        while (folders.Records().Count < 40)
        {
            most = Math.Max(most, Counter(daemon, MqttIntakeMetrics.HeldName));
            await Task.Delay(5);
        }
        // Not asserted: Debian's Mosquitto 2.0 keeps the limit only until acknowledgements flow (measured: up to 29
        // held with a limit of 4); the README says so. Every message still gets its record and its acknowledgement.
        output.WriteLine($"most held at once while flowing (IntakeReceiveMaximum 4): {most}");
        await Eventually.True(() => Counter(daemon, MqttIntakeMetrics.AcknowledgedName) == 40, "40 acknowledgements");
    }

    [BrokerFact]
    public async Task ADeadBrokerDelaysNeitherTheStartNorFolderImagesAndTheIntakeConnectsWhenItComes()
    {
        using var broker = MosquittoBroker.Start();
        broker.Stop();
        using var folders = FakeDaemon.NewFolders("A");
        await using var daemon = await FakeDaemon.StartAsync(folders, output, IntakeArgs(broker));
        folders.DropText("folder.png", "0.1");
        await folders.WaitForRecords(1, TimeSpan.FromSeconds(20));
        await Eventually.True(() => daemon.Events(821).Count > 0, "a failed connection logged (event 821)");
        broker.Restart();
        await WaitSubscribed(daemon);
        await using var camera = await TestPublisher.ConnectAsync(broker.Port);
        await camera.PublishAsync($"{Prefix}/images/default", "0.8", ("name", "late.png"));
        await folders.WaitForRecords(2, TimeSpan.FromSeconds(20));
        Assert.Equal("ng", folders.RecordOf("late.png").GetProperty("verdict").GetString());
    }

    [Fact]
    public void IntakeSettingsAreCheckedAtStartNamingTheirKey()
    {
        var validator = new MqttOptionsValidator();
        var off = validator.Validate(null, new MqttOptions { Intake = true });
        Assert.Contains("Inspection:Mqtt:Intake is true but Inspection:Mqtt:Server is not set", off.FailureMessage);
        var bad = validator.Validate(null, new MqttOptions { Server = "localhost", TopicPrefix = "p", Intake = true, Group = "a/b", IntakeReceiveMaximum = 0 });
        Assert.Contains("Inspection:Mqtt:Group must be 1-256 bytes without /, + or #", bad.FailureMessage);
        Assert.Contains("Inspection:Mqtt:IntakeReceiveMaximum", bad.FailureMessage);
        Assert.True(validator.Validate(null, new MqttOptions { Server = "localhost", TopicPrefix = "p", Intake = true }).Succeeded);
        Assert.Equal("$share/patchcore/plant/l1/images/+", MqttImageIntake.FilterFor(new MqttOptions { TopicPrefix = "plant/l1" }));
    }
}
