using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Mqtt;

/// <summary>
/// The real daemon as a child process, killed with SIGKILL, publishing to a real Mosquitto broker: what it journaled
/// is published after its restart, whatever the broker was doing, and the broker tells subscribers it went offline.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class MqttCrashTests(BankFixture bank, ITestOutputHelper output)
{
    private const string Prefix = "plant/line1/station3";

    [BrokerFact("bottle")]
    public async Task KilledDaemonsPublishEveryJournaledRecordAfterTheirRestartAndTheLastWillSaysOffline()
    {
        using var broker = MosquittoBroker.Start();
        using var folders = new DaemonFolders(bank.BankA);
        var sources = bank.Good.Concat(bank.Defects).ToArray();
        var names = Enumerable.Range(0, 25).Select(i => DaemonFolders.Name(i, sources[i % sources.Length])).ToArray();
        string[] args = folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=0", .. broker.DaemonArgs(Prefix)]);
        string cursor = Path.Combine(folders.Outbox, ".inspection", Publishing.PublishCursor.FileName);
        await using var subscriber = await TestSubscriber.ConnectAsync(broker.Port, Prefix + "/#");
        List<ReceivedMessage> Results() => subscriber.Messages.Where(m => m.Id is not null).ToList();
        List<System.Text.Json.JsonElement> Statuses() => subscriber.Messages.Where(m => m.Topic == Prefix + "/status").Select(m => m.Json()).ToList();

        // 1. SIGKILL between journal and publish: the broker is down (stopped, so it saved the subscriber's session).
        broker.Stop();
        using (var daemon = DaemonProcess.Start(args))
        {
            folders.Drop(sources[0], names[0]);
            await folders.WaitForRecords(1, TimeSpan.FromMinutes(2), daemon); // scoring did not wait for the broker
            daemon.KillHard();
        }
        Assert.False(File.Exists(cursor), "a cursor was written while the broker was down");
        broker.Restart();

        // 2. After the restart the record is published. Then SIGKILL in the middle of a stream with the broker up.
        using (var daemon = DaemonProcess.Start(args))
        {
            await subscriber.WaitForAsync(m => m.Any(r => r.Id is not null), "the record journaled before the kill", TimeSpan.FromMinutes(2));
            await subscriber.WaitForAsync(_ => Statuses().LastOrDefault() is { } s && s.GetProperty("state").GetString() == "online", "the online status");
            for (int i = 1; i < names.Length; i++) folders.Drop(sources[i % sources.Length], names[i]);
            await subscriber.WaitForAsync(_ => Results().DistinctBy(r => r.Id).Count() >= 8, "records of the stream", TimeSpan.FromMinutes(3));
            daemon.KillHard();
            output.WriteLine($"kill -9 with {folders.Records().Count} records journaled, {Results().DistinctBy(r => r.Id).Count()} published");
        }
        // The broker saw the connection die without a DISCONNECT and published the will.
        await subscriber.WaitForAsync(_ => Statuses()[^1].GetProperty("state").GetString() == "offline", "the last will");
        Assert.Equal("connection lost", Statuses()[^1].GetProperty("reason").GetString());
        await using (var late = await TestSubscriber.ConnectAsync(broker.Port, Prefix + "/status"))
        {
            await late.WaitForAsync(m => m.Count > 0, "the retained status");
            Assert.True(late.Messages[0].Retain);
            Assert.Equal("offline", late.Messages[0].Json().GetProperty("state").GetString());
        }

        // 3. The last run finishes the stream and publishes the rest; SIGTERM says offline, stopped.
        using (var daemon = DaemonProcess.Start(args))
        {
            await folders.WaitForRecords(names.Length, TimeSpan.FromMinutes(4), daemon);
            await subscriber.WaitForAsync(_ => Results().DistinctBy(r => r.Id).Count() >= names.Length, "every record", TimeSpan.FromMinutes(2));
            // The run before may have journaled and published every record: SIGTERM once this one handles it (not in its
            // start) and is online, so that its clean stop is what the last status says.
            await daemon.WaitUntilWatching(TimeSpan.FromMinutes(2));
            await subscriber.WaitForAsync(_ => Statuses()[^1].GetProperty("state").GetString() == "online", "this run's online status");
            daemon.Terminate();
            Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(60)), "no exit after SIGTERM");
            Assert.Equal(0, daemon.ExitCode);
        }
        await subscriber.WaitForAsync(_ => Statuses()[^1].GetProperty("state").GetString() == "offline", "the offline status of the clean stop");
        Assert.Equal("stopped", Statuses()[^1].GetProperty("reason").GetString());

        // Every journaled record published at least once, the first copies in journal order, each its journal line.
        var journal = File.ReadAllLines(folders.ResultsFile);
        Assert.Equal(journal, subscriber.FirstCopies().Select(m => m.Text));
        output.WriteLine($"{journal.Length} records; {Results().Count - journal.Length} published again after the kills");
        var index = journal.Select((l, i) => (System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()!, i)).ToDictionary(x => x.Item1, x => x.i);
        output.WriteLine("results as received, by journal line (a kill right after the broker's PUBACK, before the cursor's write, repeats): "
            + string.Join(" ", Results().Select(m => index[m.Id!])));
        folders.AssertEachExactlyOnce(names);
    }
}
