using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Mqtt;

/// <summary>
/// Two real daemons (child processes, the test bank, separate inboxes and outboxes) in one shared-subscription group
/// on a real Mosquitto broker; 200 images published by independent clients (mosquitto_pub for the first ones, an
/// MQTTnet client for the rest); one daemon SIGKILLed in the middle of the stream and started again. Prints the split,
/// the throughput with one and with two daemons, and the CPU shares of the broker and the daemons.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class MqttIntakeGroupTests(BankFixture bank, ITestOutputHelper output)
{
    private const string Prefix = "plant/line1/station3";
    private const int Total = 200, Alone = 30, WhileDead = 40;

    [BrokerFact("bottle")]
    public async Task TwoDaemonsSplitTheStreamAndAKilledOneLosesNothingAndRecordsNothingTwice()
    {
        using var broker = MosquittoBroker.Start();
        using var a = new DaemonFolders(bank.BankA);
        using var b = new DaemonFolders(bank.BankA);
        string[] images = Directory.GetFiles(Path.Combine(TestData.RepoRoot, "samples", "bottle", "test"), "*.png").Order(StringComparer.Ordinal).ToArray();
        string[] Args(DaemonFolders folders) => folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=0",
            .. broker.DaemonArgs(Prefix, "--Inspection:Mqtt:Intake=true", "--Inspection:Mqtt:Group=line1", "--Inspection:Mqtt:IntakeReceiveMaximum=16")]);
        string Id(int i) => $"cam1-{i:D4}";
        var clock = Stopwatch.StartNew();

        // 1. Daemon A alone: the first images through mosquitto_pub, as the README shows it.
        var daemonA = DaemonProcess.Start(Args(a));
        DaemonProcess? daemonB = null;
        try
        {
            await Subscribed(daemonA);
            var cpu = CpuSample.Take(broker.Pid, daemonA.Pid);
            double start = clock.Elapsed.TotalSeconds;
            for (int i = 0; i < Alone; i++) MosquittoPub(broker.Port, images[i % images.Length], $"img-{i:D4}.png", Id(i));
            await a.WaitForRecords(Alone, TimeSpan.FromMinutes(3), daemonA);
            double alone = clock.Elapsed.TotalSeconds - start;
            var (brokerAlone, daemonsAlone) = cpu.Shares();
            output.WriteLine($"1 daemon: {Alone} images in {alone:F1} s = {Alone / alone:F1} images/s; broker {brokerAlone:P1} of one core, daemon {daemonsAlone:P0}");

            // 2. Daemon B joins the group; the rest is published at once by an MQTTnet client.
            daemonB = DaemonProcess.Start(Args(b));
            await Subscribed(daemonB);
            await using var camera = await TestPublisher.ConnectAsync(broker.Port);
            cpu = CpuSample.Take(broker.Pid, daemonA.Pid, daemonB.Pid);
            start = clock.Elapsed.TotalSeconds;
            for (int i = Alone; i < Total - WhileDead; i++)
                await camera.PublishAsync($"{Prefix}/images/default", await File.ReadAllBytesAsync(images[i % images.Length]), ("name", $"img-{i:D4}.png"), ("messageId", Id(i)));
            output.WriteLine($"published {Total - Alone - WhileDead} in {clock.Elapsed.TotalSeconds - start:F1} s");

            // Both score; once 40 more are recorded (and A has some of them), A is killed with SIGKILL.
            await Eventually.True(() => a.Records().Count + b.Records().Count >= Alone + 40 && a.Records().Count > Alone && b.Records().Count > 0,
                "both daemons recording", TimeSpan.FromMinutes(3));
            double both = clock.Elapsed.TotalSeconds - start;
            int recordedBoth = a.Records().Count + b.Records().Count - Alone;
            var (brokerBoth, daemonsBoth) = cpu.Shares();
            output.WriteLine($"2 daemons: {recordedBoth} images in {both:F1} s = {recordedBoth / both:F1} images/s; broker {brokerBoth:P1} of one core, daemons {daemonsBoth:P0} (2 cores = 200 %)");
            int beforeKill = a.Records().Count;
            daemonA.KillHard();
            output.WriteLine($"kill -9 daemon A with {beforeKill} records ({beforeKill - Alone} of the shared stream); B has {b.Records().Count}");
            daemonA.Dispose();
            // The last ones while A is dead: where does the broker send them?
            for (int i = Total - WhileDead; i < Total; i++)
                await camera.PublishAsync($"{Prefix}/images/default", await File.ReadAllBytesAsync(images[i % images.Length]), ("name", $"img-{i:D4}.png"), ("messageId", Id(i)));
            await Task.Delay(1000);
            daemonA = DaemonProcess.Start(Args(a));

            // 3. Every image gets a record.
            await Eventually.True(() => MessageIds(a).Concat(MessageIds(b)).Distinct().Count() >= Total, "a record for every image", TimeSpan.FromMinutes(4));
            await Task.Delay(1500); // a redelivery that would make a second record has its chance
            string[] redeliveries = daemonA.Log.Split('\n').Where(l => l.Contains("came again", StringComparison.Ordinal)).ToArray();
            // Acknowledged on the connection they came on (none given up as from an older connection, event 830).
            Assert.DoesNotContain("the connection its message came on is gone", daemonA.Log);
            output.WriteLine($"after the restart: A {a.Records().Count}, B {b.Records().Count}; redeliveries to A recognised: {redeliveries.Length}, " +
                $"{redeliveries.Count(l => l.Contains("(recorded)", StringComparison.Ordinal))} of them already recorded when they came again (before the kill, or from a ticket just after the restart), " +
                $"{redeliveries.Count(l => l.Contains("(waiting for its record)", StringComparison.Ordinal))} still waiting for their record; A's intake log:\n" +
                string.Join('\n', daemonA.Log.Split('\n').Where(l => l.Contains("MQTT intake", StringComparison.Ordinal) && !l.Contains("came again", StringComparison.Ordinal))));
        }
        finally
        {
            daemonA.Terminate();
            daemonB?.Terminate();
            daemonA.WaitForExit(TimeSpan.FromSeconds(60));
            daemonB?.WaitForExit(TimeSpan.FromSeconds(60));
            daemonA.Dispose();
            daemonB?.Dispose();
        }

        var ofA = MessageIds(a).ToList();
        var ofB = MessageIds(b).ToList();
        var expected = Enumerable.Range(0, Total).Select(Id).ToHashSet();
        Assert.Empty(expected.Except(ofA.Concat(ofB)));
        Assert.Empty(ofA.Concat(ofB).Except(expected));
        // Never two records of one message in one journal; across the two journals only the documented case (a
        // message recorded by A, then handed to B before A acknowledged it), at most A's receive window.
        Assert.Equal(ofA.Count, ofA.Distinct().Count());
        Assert.Equal(ofB.Count, ofB.Distinct().Count());
        var twice = ofA.Intersect(ofB).Order(StringComparer.Ordinal).ToList();
        output.WriteLine($"split: A {ofA.Count} records, B {ofB.Count}; of the {Total - Alone} published to both: A {ofA.Count - Alone}, B {ofB.Count}; " +
            $"of the {WhileDead} published while A was dead: A {ofA.Count(id => string.CompareOrdinal(id, Id(Total - WhileDead)) >= 0)}, B {ofB.Count(id => string.CompareOrdinal(id, Id(Total - WhileDead)) >= 0)}");
        output.WriteLine($"messages with a record on both daemons (A died after the record, before the PUBACK, and B got it): {twice.Count}{(twice.Count > 0 ? ": " + string.Join(", ", twice) : "")}");
        foreach (string id in twice)
        {
            var (ra, rb) = (Record(a, id), Record(b, id));
            Assert.Equal(ra.GetProperty("sha256").GetString(), rb.GetProperty("sha256").GetString());
        }
        Assert.True(twice.Count <= 16, $"{twice.Count} messages recorded on both daemons, more than A's receive window (16)");
        foreach (var folders in new[] { a, b })
        {
            foreach (var record in folders.Records())
                Assert.True(File.Exists(record.GetProperty("path").GetString()), $"{record.GetProperty("originalName")} not at its path");
            Assert.Empty(folders.InboxImages());
        }
    }

    private static IEnumerable<string> MessageIds(DaemonFolders folders) =>
        folders.Records().Select(r => r.GetProperty("submission").GetProperty("messageId").GetString()!);

    private static JsonElement Record(DaemonFolders folders, string messageId) =>
        folders.Records().Single(r => r.GetProperty("submission").GetProperty("messageId").GetString() == messageId);

    private static async Task Subscribed(DaemonProcess daemon)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!daemon.Log.Contains("MQTT intake: connected", StringComparison.Ordinal))
        {
            if (daemon.HasExited || DateTime.UtcNow > deadline) Assert.Fail($"The daemon's intake did not subscribe.\n{daemon.Log}");
            await Task.Delay(100);
        }
    }

    private static void MosquittoPub(int port, string file, string name, string messageId)
    {
        string tool = File.Exists("/usr/bin/mosquitto_pub") ? "/usr/bin/mosquitto_pub" : "mosquitto_pub";
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-V", "mqttv5", "-q", "1",
                     "-t", $"{Prefix}/images/default", "-f", file,
                     "-D", "publish", "user-property", "name", name, "-D", "publish", "user-property", "messageId", messageId])
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        string log = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"mosquitto_pub failed ({process.ExitCode}): {log}");
    }

    /// <summary>CPU time (utime + stime from /proc/PID/stat) of the broker and the daemons over a span of wall time.</summary>
    private sealed class CpuSample
    {
        private readonly int _broker;
        private readonly int[] _daemons;
        private readonly double _brokerStart, _daemonsStart;
        private readonly Stopwatch _wall = Stopwatch.StartNew();

        private CpuSample(int broker, int[] daemons)
        {
            _broker = broker;
            _daemons = daemons;
            _brokerStart = Seconds(broker);
            _daemonsStart = daemons.Sum(Seconds);
        }

        public static CpuSample Take(int broker, params int[] daemons) => new(broker, daemons);

        /// <summary>CPU seconds per wall second: 1.0 = one core busy.</summary>
        public (double Broker, double Daemons) Shares()
        {
            double wall = _wall.Elapsed.TotalSeconds;
            return ((Seconds(_broker) - _brokerStart) / wall, (_daemons.Sum(Seconds) - _daemonsStart) / wall);
        }

        private static double Seconds(int pid)
        {
            try
            {
                string stat = File.ReadAllText($"/proc/{pid}/stat");
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // Fields 14 and 15 of the file (utime, stime), here 11 and 12 after the state at index 0.
                return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
            }
            catch (IOException)
            {
                return 0;
            }
        }
    }
}
