using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

/// <summary>The daemon as a child process, killed with SIGKILL at different points of a batch, then restarted.</summary>
[Collection(DaemonCollection.Name)]
public sealed class CrashRecoveryTests(BankFixture bank, ITestOutputHelper output)
{
    private sealed record KillPoint(string Name, Func<FileSystemEventArgs, bool> Matches, int Occurrence = 1);

    [DataFact("bottle")]
    public async Task KilledMidBatchAtManyPointsThenRestartedEveryImageHasOneRecordAndOnePlace()
    {
        using var folders = new DaemonFolders(bank.BankA);
        var sources = bank.Good.Concat(bank.Defects).ToArray();
        var names = Enumerable.Range(0, 64).Select(i => DaemonFolders.Name(i, sources[i % sources.Length])).ToArray();
        for (int i = 0; i < names.Length; i++) folders.Drop(sources[i % sources.Length], names[i]);
        Directory.CreateDirectory(folders.Outbox);
        string staging = Directory.CreateDirectory(Path.Combine(folders.Inbox, ".inspection", "staging")).FullName;
        string[] args = folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=0", "--Inspection:MaxBatchSize=8", "--Inspection:MaxBatchDelayMs=100"]);

        string results = folders.ResultsFile;
        bool IsImageMove(FileSystemEventArgs e) =>
            new[] { "ok", "review", "ng" }.Any(v => e.FullPath.StartsWith(Path.Combine(folders.Outbox, v), StringComparison.Ordinal)) && Path.HasExtension(e.FullPath);
        var points = new[]
        {
            new KillPoint("while heatmaps are written (before the record)", e => e.Name!.Contains(".heatmap", StringComparison.Ordinal)),
            new KillPoint("right after records are appended (before any move)", e => e.ChangeType == WatcherChangeTypes.Changed && e.FullPath == results),
            new KillPoint("with an image in staging (between inbox and destination)", e => e.FullPath.StartsWith(staging, StringComparison.Ordinal)),
            new KillPoint("in the middle of a batch's moves", IsImageMove, Occurrence: 3),
            new KillPoint("right after a batch's checkpoint", e => e.FullPath.EndsWith("checkpoint.json", StringComparison.Ordinal), Occurrence: 2),
        };

        var logs = new List<string>();
        foreach (var point in points)
        {
            int before = folders.Records().Count;
            using var daemon = DaemonProcess.Start(args);
            bool fired = await KillWhen(daemon, folders, staging, point, TimeSpan.FromMinutes(2));
            logs.Add(daemon.Log);
            output.WriteLine($"kill -9 {(fired ? "" : "(trigger not seen, killed on timeout) ")}{point.Name}: records {before} -> {folders.Records().Count}, inbox {folders.InboxImages().Length}, staged {folders.StagedFiles().Length}");
        }
        using (var timed = DaemonProcess.Start(args))
        {
            await folders.WaitForRecords(folders.Records().Count + 1, TimeSpan.FromMinutes(2), timed);
            await Task.Delay(700);
            timed.KillHard();
            logs.Add(timed.Log);
            output.WriteLine($"kill -9 700 ms after a record appeared: records {folders.Records().Count}, inbox {folders.InboxImages().Length}, staged {folders.StagedFiles().Length}");
        }

        using (var last = DaemonProcess.Start(args))
        {
            await folders.WaitForRecords(names.Length, TimeSpan.FromMinutes(4), last);
            while (folders.InboxImages().Length > 0 || folders.StagedFiles().Length > 0) await Task.Delay(100);
            // All may have been recorded before this daemon started: SIGTERM once it handles it, not in its start.
            await last.WaitUntilWatching(TimeSpan.FromMinutes(2));
            last.Terminate();
            Assert.True(last.WaitForExit(TimeSpan.FromSeconds(60)), "no exit after SIGTERM");
            logs.Add(last.Log);
            Assert.Equal(0, last.ExitCode);
        }

        string all = string.Join('\n', logs);
        output.WriteLine($"restarts finished {Regex.Matches(all, "Recovered: ").Count} interrupted moves; torn record tails cut: {Regex.Matches(all, "torn by a crash").Count}");
        folders.AssertEachExactlyOnce(names);
    }

    [DataFact("bottle")]
    public async Task SigtermFinishesTheBatchInFlightAndExitsZero()
    {
        using var folders = new DaemonFolders(bank.BankA);
        var sources = bank.Good.Concat(bank.Defects).ToArray();
        // Far more images than the pipeline holds out of the inbox at once (five parts of MaxBatchSize), so that images
        // are still waiting when SIGTERM comes however fast the daemon scores: with 32 (four parts) a fast enough
        // daemon had taken all of them before its first record and recorded every one.
        const int batch = 8;
        var names = Enumerable.Range(0, 16 * batch).Select(i => DaemonFolders.Name(i, sources[i % sources.Length])).ToArray();
        for (int i = 0; i < names.Length; i++) folders.Drop(sources[i % sources.Length], names[i]);

        using var daemon = DaemonProcess.Start(folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=0", $"--Inspection:MaxBatchSize={batch}", "--Inspection:ShutdownTimeoutMs=60000"]));
        await folders.WaitForRecords(1, TimeSpan.FromMinutes(2), daemon);
        daemon.Terminate();
        Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(90)), "no exit within 90 s of SIGTERM");
        output.WriteLine(daemon.Log);
        Assert.Equal(0, daemon.ExitCode);

        var records = folders.Records();
        Assert.InRange(records.Count, 1, names.Length - 1);
        Assert.All(records, r => Assert.True(File.Exists(r.GetProperty("path").GetString())));
        Assert.Empty(folders.StagedFiles());
        var recorded = records.Select(r => r.GetProperty("originalName").GetString()!).ToHashSet();
        var waiting = folders.InboxImages().Select(p => Path.GetFileName(p)).ToHashSet();
        Assert.Equal(names.ToHashSet(), recorded.Union(waiting).ToHashSet());
        Assert.Empty(recorded.Intersect(waiting));
        Assert.Equal(records.Count, folders.PlacedImages().Length);
        using var health = JsonDocument.Parse(File.ReadAllText(Path.Combine(folders.Outbox, "health.json")));
        Assert.Equal("stopped", health.RootElement.GetProperty("state").GetString());
        Assert.Equal(records.Count, health.RootElement.GetProperty("processed").GetInt64());
    }

    /// <summary>Kills the daemon from the file-system event itself, so the kill lands within a few milliseconds of that point.</summary>
    private static async Task<bool> KillWhen(DaemonProcess daemon, DaemonFolders folders, string staging, KillPoint point, TimeSpan timeout)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int seen = 0;
        void OnEvent(object? _, FileSystemEventArgs e)
        {
            if (!point.Matches(e) || Interlocked.Increment(ref seen) != point.Occurrence) return;
            fired.TrySetResult(); // first, so the kill's own exit is not taken for a crash
            daemon.KillHard();
        }
        using var outbox = Watch(folders.Outbox, OnEvent);
        using var staged = Watch(staging, OnEvent);
        var done = await Task.WhenAny(fired.Task, Task.Delay(timeout), daemon.Exited);
        if (done == daemon.Exited && !fired.Task.IsCompleted)
            Assert.Fail($"The daemon exited by itself with code {daemon.ExitCode}\n{daemon.Log}");
        daemon.KillHard();
        return fired.Task.IsCompleted;
    }

    private static FileSystemWatcher Watch(string folder, FileSystemEventHandler handler)
    {
        var watcher = new FileSystemWatcher(folder) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size };
        watcher.Created += handler;
        watcher.Changed += handler;
        watcher.Renamed += (s, e) => handler(s, e);
        watcher.EnableRaisingEvents = true;
        return watcher;
    }
}
