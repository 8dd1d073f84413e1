using System.Text.Json;
using PatchCore.Core;
using PatchCore.Core.MemoryBank;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Feedback;

/// <summary>
/// The daemon as a child process, killed with SIGKILL in the middle of a background feedback update: while the new
/// images are embedded, and at the moment the new version's file is being written. After each kill the pointer still
/// names v1 and every version file there is complete; the restarted daemon serves v1 first, removes the killed
/// writer's temp file, does the update again and switches to v2.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class FeedbackCrashTests(BankFixture bank, ITestOutputHelper output)
{
    [DataFact("bottle")]
    public async Task KilledInTheMiddleOfAnUpdateTheOldVersionStaysLiveAndNoPartialVersionIsLoaded()
    {
        using var folders = new DaemonFolders { DefaultBank = false };
        string series = Path.Combine(folders.Root, "bank", "bottle");
        string bankFolder = Path.GetDirectoryName(series)!;
        File.Copy(bank.BankA, BankVersions.VersionPath(series, 1));
        BankVersions.SetCurrent(series, 1);
        string good = Directory.CreateDirectory(Path.Combine(folders.Outbox, "feedback", "good")).FullName;
        var feedback = TestData.Images("bottle", Path.Combine("train", "good")).Skip(30).Take(8).ToArray();
        foreach (var image in feedback) File.Copy(image, Path.Combine(good, Path.GetFileName(image))); // keeps its time: settled
        string[] args = folders.Args([$"--Inspection:Bank={BankVersions.PointerPath(series)}", .. bank.ThresholdArgs, "--Inspection:SettleMs=200",
            "--Inspection:BankPollIntervalMs=200", "--Inspection:Feedback:Enabled=true", $"--Inspection:Feedback:MinImages={feedback.Length}",
            "--Inspection:Feedback:PollIntervalMs=200"]);

        // 1. while the update embeds the new images (a second after it started)
        using (var daemon = DaemonProcess.Start(args))
        {
            await WaitFor(() => Journal(folders).Contains("started"), "the update's start", daemon);
            await Task.Delay(1000);
            Assert.Equal(1, BankVersions.Current(series)); // still running: nothing written yet
            var nice = NiceOfThreads(daemon.Pid);
            output.WriteLine($"FIGURE threads of the daemon during the update by nice value: {string.Join(", ", nice.OrderBy(n => n.Key).Select(n => $"nice {n.Key}: {n.Value}"))}");
            daemon.KillHard();
            output.WriteLine($"kill -9 1 s into the update: files {string.Join(", ", Directory.GetFiles(bankFolder).Select(Path.GetFileName))}");
        }
        AssertOnlyCompleteVersionsAndV1Current(series);

        // 2. the moment the new version's temp file appears (its bytes being written)
        using (var daemon = DaemonProcess.Start(args))
        {
            using var watcher = new FileSystemWatcher(bankFolder, "bottle.v*.pcbank.tmp-*");
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            int fired = 0;
            watcher.Created += (_, _) =>
            {
                Volatile.Write(ref fired, 1); // before the kill: the daemon's exit must not be taken for a timeout
                daemon.KillHard();
                seen.TrySetResult();
            };
            watcher.EnableRaisingEvents = true;
            await Task.WhenAny(seen.Task, daemon.Exited, Task.Delay(TimeSpan.FromMinutes(2)));
            daemon.KillHard();
            output.WriteLine($"kill -9 {(Volatile.Read(ref fired) == 1 ? "as the version's temp file appeared" : "on timeout (temp file not seen)")}: files {string.Join(", ", Directory.GetFiles(bankFolder).Select(Path.GetFileName))}");
        }
        AssertOnlyCompleteVersionsAndV1Current(series);
        Assert.Equal(feedback.Length, Directory.GetFiles(good).Length); // the images wait for the next try

        // 3. restarted: v1 serves first, the update is done again, v2 becomes current and is switched to
        string v1Id = IdOf(BankVersions.VersionPath(series, 1));
        using (var daemon = DaemonProcess.Start(args))
        {
            string? firstBank = null;
            await WaitFor(() => (firstBank = TryHealth(folders)?.GetProperty("bankId").GetString()) is not null, "the first health report", daemon);
            Assert.Equal(v1Id, firstBank);
            await WaitFor(() => Journal(folders).EndsWith("current"), "the update's completion", daemon);
            string v2 = BankVersions.Resolve(BankVersions.PointerPath(series));
            string v2Id = IdOf(v2);
            await WaitFor(() =>
            {
                folders.Drop(feedback[0], $"probe-{Guid.NewGuid():N}.png");
                return TryHealth(folders)?.GetProperty("bankId").GetString() == v2Id;
            }, "the switch to v2", daemon, pollMs: 1500);
            output.WriteLine($"restart: v1 served first, then {Path.GetFileName(v2)} made current and switched to; leftovers: {string.Join(", ", Directory.GetFiles(bankFolder, "*.tmp-*").Select(Path.GetFileName))}");
            daemon.Terminate();
            Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(60)), "no exit after SIGTERM");
            Assert.Contains("removed", daemon.Log, StringComparison.Ordinal); // the killed writer's temp file (event 907)
        }
        Assert.Empty(Directory.GetFiles(bankFolder, "*.tmp-*"));
        Assert.Equal(2, BankVersions.Current(series));
    }

    /// <summary>The pointer names v1, and every file named like a version reads whole with its checksum.</summary>
    private static void AssertOnlyCompleteVersionsAndV1Current(string series)
    {
        Assert.Equal(1, BankVersions.Current(series));
        foreach (int v in BankVersions.Versions(series))
            MemoryBankFile.Read(BankVersions.VersionPath(series, v)); // throws on a partial file
    }

    /// <summary>How many of the process's threads run at each nice value (/proc/PID/task/TID/stat, field 19).</summary>
    private static Dictionary<int, int> NiceOfThreads(int pid)
    {
        var counts = new Dictionary<int, int>();
        foreach (string task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            try
            {
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // fields from 3 (state) on
                int nice = int.Parse(fields[19 - 3], System.Globalization.CultureInfo.InvariantCulture);
                counts[nice] = counts.GetValueOrDefault(nice) + 1;
            }
            catch (IOException) { } // the thread ended
        }
        return counts;
    }

    private static string IdOf(string path)
    {
        using var detector = PatchCoreDetector.Load(path);
        return detector.BankId;
    }

    private static string Journal(DaemonFolders folders)
    {
        string path = Path.Combine(folders.Outbox, "feedback", "journal.jsonl");
        if (!File.Exists(path)) return "";
        return string.Join(" ", File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("kind").GetString()));
    }

    private static JsonElement? TryHealth(DaemonFolders folders)
    {
        try { return folders.Health(); }
        catch (Exception e) when (e is IOException or JsonException) { return null; }
    }

    private static async Task WaitFor(Func<bool> condition, string what, DaemonProcess daemon, int pollMs = 100)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!condition())
        {
            Assert.False(daemon.HasExited, $"the daemon exited while waiting for {what}: {daemon.Log}");
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}: {daemon.Log}");
            await Task.Delay(pollMs);
        }
    }
}
