using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using PatchCore.Inspection.Publishing;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Mqtt;

/// <summary>
/// Publishing figures under a burst of 500 images, printed, never asserted: the fake scorer journals far faster than
/// the real one, so the publisher, not scoring, is what is measured. Asserted: every record arrives, in journal order.
/// </summary>
public sealed class MqttBurstTests(ITestOutputHelper output)
{
    private const string Prefix = "plant/line1/station3";
    private const int Images = 500;

    [BrokerFact]
    public async Task ABurstOf500IsPublishedInOrderAndItsLagAndThroughputArePrinted()
    {
        using var broker = MosquittoBroker.Start();
        await using var subscriber = await TestSubscriber.ConnectAsync(broker.Port, Prefix + "/results/+");
        using var folders = FakeDaemon.NewFolders();
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, broker.DaemonArgs(Prefix)))
        {
            var state = daemon.Host.Services.GetRequiredService<PublisherState>();
            await Eventually.True(() => state.Connected, "connected to the broker");

            // 1. Live: 500 images land at once; the publisher follows the journal as it grows.
            var landed = Land(folders, "live", 0);
            var (maxLag, lagSamples) = await SampleLagUntilAsync(state, () => subscriber.Messages.DistinctBy(m => m.Id).Count() >= Images);
            var live = subscriber.Messages.ToList();
            var liveIds = live.Select(m => m.Id).ToHashSet();
            Report("live burst", landed, live, maxLag, lagSamples, folders);

            // 2. Catch-up: 500 records journaled while the broker is down, then published in one go from the cursor.
            broker.Kill();
            await Eventually.True(() => !state.Connected, "disconnected");
            Land(folders, "backlog", Images);
            await folders.WaitForRecords(2 * Images, TimeSpan.FromMinutes(2));
            await Eventually.True(() => state.Lag == Images, "the backlog counted as lag");
            broker.Restart();
            var restarted = DateTimeOffset.UtcNow;
            long publishedBefore = state.Published;
            await Eventually.True(() => state.Published > publishedBefore, "the first acknowledgement after the restart", TimeSpan.FromMinutes(1));
            var firstAck = Stopwatch.GetTimestamp();
            await Eventually.True(() => state.Lag == 0, "the backlog acknowledged", TimeSpan.FromMinutes(3));
            double ackSeconds = Stopwatch.GetElapsedTime(firstAck).TotalSeconds;
            await subscriber.WaitForAsync(m => m.DistinctBy(r => r.Id).Count() >= 2 * Images, "the backlog published", TimeSpan.FromMinutes(3));
            var backlog = subscriber.Messages.Where(m => !liveIds.Contains(m.Id)).ToList();
            double seconds = (backlog[^1].ReceivedAt - backlog[0].ReceivedAt).TotalSeconds;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"catch-up after the broker's restart: the broker acknowledged the backlog of {Images} in {ackSeconds:F2} s from its first PUBACK = {Images / ackSeconds:F0} records/s; " +
                $"the subscriber received {backlog.DistinctBy(m => m.Id).Count()} records in {seconds:F2} s from the first to the last = {backlog.Count / seconds:F0} records/s " +
                $"(first {(backlog[0].ReceivedAt - restarted).TotalMilliseconds:F0} ms after the restart, reconnect backoff included; {backlog.Count - backlog.DistinctBy(m => m.Id).Count()} repeats)"));
        }

        // Every record on the broker, the first copies in journal order.
        Assert.Equal(File.ReadAllLines(folders.ResultsFile), subscriber.FirstCopies().Select(m => m.Text));
    }

    /// <summary>Prepares the images in the drafts folder, then renames them all into the inbox at once.</summary>
    private static DateTimeOffset Land(DaemonFolders folders, string prefix, int first)
    {
        var names = Enumerable.Range(first, Images).Select(i => $"{prefix}{i:D4}.png").ToArray();
        foreach (string name in names) File.WriteAllText(Path.Combine(folders.Drafts, name), "0.2");
        var landed = DateTimeOffset.UtcNow;
        foreach (string name in names) File.Move(Path.Combine(folders.Drafts, name), Path.Combine(folders.Inbox, name));
        return landed;
    }

    private static async Task<(long Max, List<long> Samples)> SampleLagUntilAsync(PublisherState state, Func<bool> done)
    {
        var samples = new List<long>();
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "the burst was not published within 3 minutes");
            samples.Add(state.Lag);
            await Task.Delay(10);
        }
        return (samples.DefaultIfEmpty(0).Max(), samples);
    }

    private void Report(string what, DateTimeOffset landed, List<ReceivedMessage> messages, long maxLag, List<long> lagSamples, DaemonFolders folders)
    {
        var records = folders.Records().ToDictionary(r => r.GetProperty("id").GetString()!, r => r.GetProperty("scoredAt").GetDateTimeOffset());
        var latencies = messages.Where(m => m.Id is not null).Select(m => (m.ReceivedAt - records[m.Id!]).TotalMilliseconds).Order().ToArray();
        double journalSeconds = (records.Values.Max() - records.Values.Min()).TotalSeconds;
        double publishSeconds = (messages[^1].ReceivedAt - messages[0].ReceivedAt).TotalSeconds;
        var sorted = lagSamples.Order().ToArray();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {Images} images scored (fake scorer) in {journalSeconds:F2} s = {Images / journalSeconds:F0} records/s journaled; " +
            $"received by an independent subscriber in {publishSeconds:F2} s = {Images / publishSeconds:F0} records/s, the last {(messages[^1].ReceivedAt - landed).TotalSeconds:F2} s after the landing; " +
            $"scoring -> subscriber median {Percentile(latencies, 0.5):F0} ms, p95 {Percentile(latencies, 0.95):F0} ms, max {latencies[^1]:F0} ms; " +
            $"lag (records journaled, not acknowledged) median {(sorted.Length == 0 ? 0 : sorted[sorted.Length / 2])}, max {maxLag} over {lagSamples.Count} samples"));
    }

    private static double Percentile(double[] sorted, double p) => sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(p * sorted.Length) - 1)];
}
