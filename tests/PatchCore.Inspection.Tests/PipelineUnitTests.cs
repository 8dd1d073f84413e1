using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Processing;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

/// <summary>The whole daemon with a fake scorer: intake, batches, journal, heatmaps, moves, health and metrics, no dataset.</summary>
public sealed class PipelineUnitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ScoresBecomeVerdictsRecordsHeatmapsAndPlaces()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        folders.DropText("early.png", "0.1"); // there before the start
        await using (var daemon = await FakeDaemon.StartAsync(folders, output))
        {
            folders.DropText("good.png", "0.2");
            folders.DropText("bad.png", "0.9");
            folders.DropText("edge.png", "0.5"); // at the threshold: NG
            folders.DropText("text.png", "hello");
            File.WriteAllBytes(Path.Combine(folders.Drafts, "zero.png"), []);
            File.Move(Path.Combine(folders.Drafts, "zero.png"), Path.Combine(folders.Inbox, "zero.png"));
            await folders.WaitForRecords(6, TimeSpan.FromSeconds(30));
        }

        folders.AssertEachExactlyOnce(["early.png", "good.png", "bad.png", "edge.png", "text.png", "zero.png"]);
        foreach (var (name, verdict, score) in new[] { ("early.png", "ok", 0.1), ("good.png", "ok", 0.2), ("bad.png", "ng", 0.9), ("edge.png", "ng", 0.5) })
        {
            var record = folders.RecordOf(name);
            Assert.Equal(verdict, record.GetProperty("verdict").GetString());
            Assert.Equal(score, record.GetProperty("score").GetDouble());
            Assert.Equal(0.5, record.GetProperty("threshold").GetDouble());
            Assert.Equal("A", record.GetProperty("bankId").GetString());
            Assert.Equal("default", record.GetProperty("product").GetString());
            Assert.StartsWith(Path.Combine(folders.Outbox, verdict) + Path.DirectorySeparatorChar, record.GetProperty("path").GetString());
            Assert.Contains("heatmap of", File.ReadAllText(record.GetProperty("heatmap").GetString()!));
        }
        foreach (var (name, reason) in new[] { ("text.png", "not an image"), ("zero.png", "zero-byte file") })
        {
            var record = folders.RecordOf(name);
            Assert.Equal("quarantined", record.GetProperty("verdict").GetString());
            Assert.Contains(reason, record.GetProperty("reason").GetString());
            Assert.Equal(System.Text.Json.JsonValueKind.Null, record.GetProperty("heatmap").ValueKind);
            Assert.Equal(System.Text.Json.JsonValueKind.Null, record.GetProperty("score").ValueKind);
            Assert.Contains(reason, File.ReadAllText(record.GetProperty("path").GetString() + ".reason.txt"));
        }

        var health = folders.Health();
        Assert.Equal("stopped", health.GetProperty("state").GetString());
        Assert.Equal(6, health.GetProperty("processed").GetInt64());
        Assert.Equal(2, health.GetProperty("ok").GetInt64());
        Assert.Equal(2, health.GetProperty("ng").GetInt64());
        Assert.Equal(2, health.GetProperty("quarantined").GetInt64());
        Assert.Equal(0, health.GetProperty("backlog").GetInt32());
        Assert.Equal("A", health.GetProperty("bankId").GetString());
    }

    [Fact]
    public async Task ASlowHeatmapWriterHoldsTheScorerBackAtTheQueueBoundAndTheJournalKeepsTheGatheredOrder()
    {
        const int batch = 2, count = 24;
        var names = Enumerable.Range(0, count).Select(i => $"img{i:D2}.png").ToArray();
        using var folders = FakeDaemon.NewFolders();
        using var writer = new ManualResetEventSlim(false);
        // The blocked writer holds a pool thread: enough threads that the scorer is held back by the queue, not by a starved pool.
        ThreadPool.GetMinThreads(out int workers, out int completions);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), completions);
        // One batch in the heatmap writer, the queue before it full, and one more scored that waits to enter the queue.
        int bound = (2 + InspectionWorker.QueueCapacity) * batch;
        await using (var daemon = new FakeDaemon(folders, output, $"--Inspection:MaxBatchSize={batch}", "--Inspection:MaxBatchDelayMs=600000"))
        {
            daemon.Script.BeforeHeatmap = _ => writer.Wait();
            try
            {
                await daemon.StartAsync();
                foreach (string name in names) folders.DropText(name, "0.1");
                await Eventually.True(() => daemon.Script.Calls.Sum(c => c.Length) >= bound, $"{bound} files scored");
                await Task.Delay(500); // room for the scorer to run further ahead, were it not held back
                Assert.Equal(bound, daemon.Script.Calls.Sum(c => c.Length));
                Assert.Empty(folders.Records());
            }
            finally
            {
                writer.Set();
            }
            await folders.WaitForRecords(count, TimeSpan.FromSeconds(30));
            // The commit stage takes the batches in the order they were scored: the journal is that order.
            Assert.Equal(daemon.Script.Calls.SelectMany(c => c).Select(Path.GetFileName),
                folders.Records().Select(r => r.GetProperty("originalName").GetString()));
        }
        folders.AssertEachExactlyOnce(names);
    }

    [Fact]
    public async Task TheInstrumentsCountWhatTheJournalSaysAndHealthAndStatusReadThem()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        var daemon = new FakeDaemon(folders, output);
        using var images = new MetricCollector<long>(daemon.Metrics.Meter, InspectionMetrics.ImagesName);
        using var durations = new MetricCollector<double>(daemon.Metrics.Meter, InspectionMetrics.LatencyName);
        using var batchSizes = new MetricCollector<int>(daemon.Metrics.Meter, InspectionMetrics.BatchSizeName);
        using var backlog = new MetricCollector<int>(daemon.Metrics.Meter, InspectionMetrics.BacklogName);
        await using (daemon)
        {
            await daemon.StartAsync();
            folders.DropText("a.png", "0.1");
            folders.DropText("b.png", "0.8");
            folders.DropText("c.png", "not a number");
            await folders.WaitForRecords(3, TimeSpan.FromSeconds(30));
            await Eventually.True(() => folders.Health().GetProperty("processed").GetInt64() == 3, "health.json to count 3");
            await Eventually.True(() =>
            {
                backlog.RecordObservableInstruments();
                return backlog.LastMeasurement?.Value == 0;
            }, "the backlog gauge to report an empty inbox");
        }

        var recorded = folders.Records().Select(r => r.GetProperty("verdict").GetString()).Order().ToArray();
        var counted = images.GetMeasurementSnapshot().SelectMany(m => Enumerable.Repeat((string)m.Tags["verdict"]!, (int)m.Value)).Order().ToArray();
        Assert.Equal(recorded, counted); // the tag values are the journal's verdict strings
        Assert.Equal(3, durations.GetMeasurementSnapshot().Count);
        Assert.All(durations.GetMeasurementSnapshot(), m => Assert.True(m.Value >= 0));
        Assert.Equal(3, batchSizes.GetMeasurementSnapshot().Sum(m => m.Value));

        var health = folders.Health();
        Assert.Equal(3, health.GetProperty("processed").GetInt64());
        Assert.Equal(1, health.GetProperty("quarantined").GetInt64());
        Assert.Equal(0, health.GetProperty("errors").GetInt64());
        var finalStatus = daemon.Events(501).Last();
        Assert.Equal("3", finalStatus.GetStructuredStateValue("Processed"));
        Assert.Equal("1", finalStatus.GetStructuredStateValue("Ng"));
    }
}
