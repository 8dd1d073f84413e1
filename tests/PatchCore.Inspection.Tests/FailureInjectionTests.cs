using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

/// <summary>
/// A failure injected at each step of a batch (scorer, journal, heatmap, move, the file itself), with a fake scorer.
/// The invariant after each: every image that stayed has exactly one record and lies in exactly one place.
/// </summary>
public sealed class FailureInjectionTests(ITestOutputHelper output)
{
    private static readonly string[] Three = ["a.png", "b.png", "c.png"];

    [Fact]
    public async Task AFileTheScorerThrowsOnIsQuarantinedWithTheReasonAndTheOthersAreScored()
    {
        using var folders = FakeDaemon.NewFolders();
        await using (var daemon = await FakeDaemon.StartAsync(folders, output))
        {
            daemon.Script.ThrowsOn = path => Path.GetFileName(path) == "b.png" ? "CUDA error: an illegal memory access" : null;
            DropThree(folders);
            await folders.WaitForRecords(3, TimeSpan.FromSeconds(30));
        }

        folders.AssertEachExactlyOnce(Three);
        var bad = folders.RecordOf("b.png");
        Assert.Equal("quarantined", bad.GetProperty("verdict").GetString());
        Assert.Equal("scoring failed (InvalidOperationException): CUDA error: an illegal memory access", bad.GetProperty("reason").GetString());
        Assert.Contains("CUDA error", File.ReadAllText(bad.GetProperty("path").GetString() + ".reason.txt"));
        Assert.Equal("ok", folders.RecordOf("a.png").GetProperty("verdict").GetString());
        Assert.Equal("ng", folders.RecordOf("c.png").GetProperty("verdict").GetString());
    }

    [Fact]
    public async Task WhenTheScorerFailsAsAWholeTheFilesStayInTheInboxAndAreScoredOnceItRecovers()
    {
        using var folders = FakeDaemon.NewFolders();
        await using (var daemon = new FakeDaemon(folders, output, "--Inspection:MaxBatchSize=3", "--Inspection:MaxBatchDelayMs=60000"))
        {
            daemon.Script.FailNextCalls(2);
            await daemon.StartAsync();
            DropThree(folders);
            await folders.WaitForRecords(3, TimeSpan.FromSeconds(30));

            Assert.Equal(3, daemon.Script.Calls.Count); // two failed calls, then the one that scored
            Assert.All(daemon.Script.Calls, call => Assert.Equal(3, call.Length));
            Assert.Equal(2, daemon.Events(205).Count);
            Assert.Contains("Batch failed", folders.Health().GetProperty("lastError").GetString());
            Assert.True(folders.Health().GetProperty("errors").GetInt64() >= 2);
        }
        folders.AssertEachExactlyOnce(Three);
    }

    [Fact]
    public async Task DiskFullWhileAppendingTheJournalIsRetriedWithoutLosingOrDoublingARecord()
    {
        using var folders = FakeDaemon.NewFolders();
        await using (var daemon = new FakeDaemon(folders, output, "--Inspection:MaxBatchSize=3", "--Inspection:MaxBatchDelayMs=60000"))
        {
            // Half of the batch's lines reach the disk each time before it is full.
            daemon.JournalAppends.FailCalls(FailurePlan.DiskFull, 1, 2);
            await daemon.StartAsync();
            DropThree(folders);
            await folders.WaitForRecords(3, TimeSpan.FromSeconds(30));
            Assert.Equal(2, daemon.JournalAppends.Failed);
            var retries = daemon.Events(211);
            Assert.Equal(2, retries.Count);
            Assert.All(retries, r => Assert.Contains("No space left on device", r.Message));
            Assert.StartsWith("Appending to results.jsonl", retries[0].GetStructuredStateValue("What"));
        }

        folders.AssertEachExactlyOnce(Three);
        // Every line is whole: nothing of the failed appends is left in the journal.
        string[] lines = File.ReadAllLines(folders.ResultsFile);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, line => Assert.NotNull(Outbox.InspectionRecord.FromJsonLine(line)));
    }

    [Fact]
    public async Task DiskFullWhileWritingAHeatmapIsRetriedAndLeavesOneHeatmapPerImage()
    {
        using var folders = FakeDaemon.NewFolders();
        await using (var daemon = new FakeDaemon(folders, output))
        {
            daemon.Script.FailNextHeatmaps(2);
            await daemon.StartAsync();
            DropThree(folders);
            await folders.WaitForRecords(3, TimeSpan.FromSeconds(30));
            Assert.Equal(2, daemon.Events(211).Count(r => r.Message.Contains("No space left on device", StringComparison.Ordinal)));
            Assert.Equal(3, daemon.Script.HeatmapsWritten);
        }

        folders.AssertEachExactlyOnce(Three);
        var heatmaps = Directory.GetFiles(Path.Combine(folders.Outbox, "heatmaps"), "*.heatmap.png", SearchOption.AllDirectories);
        Assert.Equal(3, heatmaps.Length);
        // beside each heatmap its defect mask, and no temporary file left behind
        Assert.Equal(6, Directory.GetFiles(Path.Combine(folders.Outbox, "heatmaps"), "*", SearchOption.AllDirectories).Length);
        Assert.Equal(folders.Records().Select(r => r.GetProperty("heatmap").GetString()).Order(), heatmaps.Order());
    }

    [Fact]
    public async Task PermissionDeniedOnAMoveIsRetried()
    {
        using var folders = FakeDaemon.NewFolders();
        await using (var daemon = new FakeDaemon(folders, output))
        {
            daemon.Mover.Plan.FailCalls(FailurePlan.PermissionDenied, 1, 2, 3);
            await daemon.StartAsync();
            DropThree(folders);
            await folders.WaitForRecords(3, TimeSpan.FromSeconds(30));
            await Eventually.True(() => folders.InboxImages().Length == 0 && folders.PlacedImages().Length == 3, "the moves");
            Assert.Equal(3, daemon.Mover.Plan.Failed);
            Assert.Equal(3, daemon.Events(211).Count(r => r.Message.Contains("permission denied", StringComparison.Ordinal)));
        }
        folders.AssertEachExactlyOnce(Three);
    }

    [Fact]
    public async Task AFileRemovedAfterItWasTakenButBeforeScoringGetsNoRecordAndTheDaemonGoesOn()
    {
        using var folders = FakeDaemon.NewFolders();
        await using (var daemon = new FakeDaemon(folders, output))
        {
            daemon.Script.BeforeScoring = paths =>
            {
                foreach (string path in paths.Where(p => Path.GetFileName(p) == "gone.png")) File.Delete(path);
            };
            await daemon.StartAsync();
            folders.DropText("gone.png", "0.3");
            await Eventually.True(() => daemon.Events(208).Count == 1, "the log of the removed file");
            DropThree(folders);
            await folders.WaitForRecords(3, TimeSpan.FromSeconds(30));
            Assert.Equal("gone.png", daemon.Events(208)[0].GetStructuredStateValue("Name"));
        }
        folders.AssertEachExactlyOnce(Three); // and no record, quarantine or file for gone.png
    }

    [Fact]
    public async Task AFileRemovedAfterScoringKeepsItsRecordAndTheLogSaysSo()
    {
        using var folders = FakeDaemon.NewFolders();
        await using (var daemon = new FakeDaemon(folders, output))
        {
            daemon.Mover.BeforeMove = record =>
            {
                if (record.OriginalName == "gone.png") File.Delete(record.InboxPath);
            };
            await daemon.StartAsync();
            folders.DropText("gone.png", "0.3");
            DropThree(folders);
            await folders.WaitForRecords(4, TimeSpan.FromSeconds(30));
            await Eventually.True(() => daemon.Events(209).Count == 1, "the log of the removed file");
            var logged = daemon.Events(209)[0];
            Assert.Equal("gone.png", logged.GetStructuredStateValue("Name"));
            Assert.Equal(folders.RecordOf("gone.png").GetProperty("id").GetString(), logged.GetStructuredStateValue("Id"));
            await Eventually.True(() => folders.InboxImages().Length == 0, "the other moves");
        }

        var gone = folders.RecordOf("gone.png");
        Assert.Equal("ok", gone.GetProperty("verdict").GetString());
        Assert.False(File.Exists(gone.GetProperty("path").GetString()));
        Assert.Equal(4, folders.Records().Count);
        foreach (string name in Three) Assert.True(File.Exists(folders.RecordOf(name).GetProperty("path").GetString()));
        Assert.Empty(folders.StagedFiles());
    }

    /// <summary>a: OK, b: NG, c: NG (threshold 0.5).</summary>
    private static void DropThree(DaemonFolders folders)
    {
        folders.DropText("a.png", "0.1");
        folders.DropText("b.png", "0.7");
        folders.DropText("c.png", "0.9");
    }
}
