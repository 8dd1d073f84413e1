using System.Diagnostics;
using System.Globalization;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

[Collection(DaemonCollection.Name)]
public sealed class BurstTests(BankFixture bank, ITestOutputHelper output)
{
    private const int Images = 500;

    [DataFact("bottle")]
    public async Task ABurstOf500IsProcessedOnceEachWithSteadyMemory()
    {
        using var folders = new DaemonFolders(bank.BankA);
        var sources = bank.Good.Concat(bank.Defects).ToArray();
        var names = Enumerable.Range(0, Images).Select(i => DaemonFolders.Name(i, sources[i % sources.Length])).ToArray();
        for (int i = 0; i < Images; i++) File.Copy(sources[i % sources.Length], Path.Combine(folders.Drafts, names[i]));

        using var daemon = DaemonProcess.Start(folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=300", "--Inspection:MaxBatchSize=8"]));
        await daemon.WaitUntilWatching(TimeSpan.FromMinutes(2)); // bank loaded, inbox watched
        var (idleRss, _) = daemon.Memory();

        // All 500 land at once: renamed in from a folder on the same file system.
        var landed = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            File.Move(Path.Combine(folders.Drafts, name), Path.Combine(folders.Inbox, name));
            landed[name] = DateTimeOffset.UtcNow;
        }
        var start = Stopwatch.GetTimestamp();
        var firstLanding = landed.Values.Min();

        var seen = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var rssSamples = new List<(int Done, double Rss)>();
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (seen.Count < Images)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {seen.Count} of {Images} records after 5 minutes\n{daemon.Log}");
            Assert.False(daemon.HasExited, daemon.Log);
            var now = DateTimeOffset.UtcNow;
            foreach (var record in folders.Records())
                seen.TryAdd(record.GetProperty("originalName").GetString()!, now);
            rssSamples.Add((seen.Count, daemon.Memory().Rss));
            await Task.Delay(50);
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var (_, peak) = daemon.Memory();
        daemon.Terminate();
        Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(60)), "no exit after SIGTERM");
        Assert.Equal(0, daemon.ExitCode);

        var latencies = names.Select(n => (seen[n] - landed[n]).TotalMilliseconds).Order().ToArray();
        double RssAt(double fraction) => rssSamples.First(s => s.Done >= fraction * Images).Rss;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"burst of {Images}: {Images / seconds:F1} images/s end to end ({seconds:F1} s from the last landing to the last record); " +
            $"latency landing->record median {Percentile(latencies, 0.5):F0} ms, p95 {Percentile(latencies, 0.95):F0} ms, max {latencies[^1]:F0} ms; " +
            $"RSS idle {idleRss:F0} MiB, at 10% {RssAt(0.1):F0}, 50% {RssAt(0.5):F0}, 90% {RssAt(0.9):F0} MiB, peak (VmHWM) {peak:F0} MiB; first landing {firstLanding:O}"));
        output.WriteLine(daemon.Log.Split('\n').LastOrDefault(l => l.Contains("Status:", StringComparison.Ordinal)) ?? "");

        folders.AssertEachExactlyOnce(names);
        // Steady memory: the second half of the burst does not grow the process beyond the first half's level by
        // more than a generous margin (decoded images and tensors are bounded by the batch, not by the backlog).
        Assert.True(RssAt(0.9) - RssAt(0.5) < 512, $"RSS grew from {RssAt(0.5):F0} to {RssAt(0.9):F0} MiB in the second half");
    }

    private static double Percentile(double[] sorted, double p) => sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(p * sorted.Length) - 1)];
}
