using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PatchCore.Core;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Feedback;

/// <summary>
/// The operator's feedback loop on real images and a real bank (bank A of <see cref="BankFixture"/> as v1 of a
/// series): a good image the bank judges review or ng is moved into <c>Outbox/feedback/good/</c>; the daemon updates
/// the bank in the background, makes v2 current, switches to it, and the same image is then judged ok.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class FeedbackLoopTests(BankFixture bank, ITestOutputHelper output)
{
    [DataFact("bottle")]
    public async Task AFalseAlarmFedBackIsJudgedOkByTheNewVersion()
    {
        using var folders = new DaemonFolders { DefaultBank = false };
        string series = Path.Combine(folders.Root, "bank", "bottle");
        File.Copy(bank.BankA, BankVersions.VersionPath(series, 1));
        BankVersions.SetCurrent(series, 1);
        var (alarm, score, extra) = FalseAlarm(BankVersions.VersionPath(series, 1));
        output.WriteLine($"false alarm: {Path.GetFileName(alarm)} scores {score:F3} with v1 (thresholds {bank.Thresholds.Review:F3} / {bank.Thresholds.Ng:F3}) {string.Join(' ', extra)}");

        string[] args = folders.Args([$"--Inspection:Bank={BankVersions.PointerPath(series)}", .. extra, "--Inspection:SettleMs=200",
            "--Inspection:BankPollIntervalMs=200", "--Inspection:Feedback:Enabled=true", "--Inspection:Feedback:MinImages=1",
            "--Inspection:Feedback:PollIntervalMs=200"]);
        await using (await InProcessDaemon.StartAsync(args, output))
        {
            folders.Drop(alarm, "alarm.png");
            await FeedbackWaits.ForRecord(folders, "alarm.png");
            var first = folders.RecordOf("alarm.png");
            Assert.NotEqual("ok", first.GetProperty("verdict").GetString());
            string v1Id = first.GetProperty("bankId").GetString()!;

            // The operator judges it good: moves it from review/ or ng/ into feedback/good/.
            var clock = Stopwatch.StartNew();
            string feedback = Path.Combine(folders.Outbox, "feedback", "good", "alarm.png");
            Directory.CreateDirectory(Path.GetDirectoryName(feedback)!);
            File.Move(first.GetProperty("path").GetString()!, feedback);

            var health = await FeedbackWaits.ForHealth(folders, h => Feedback(h).TryGetProperty("lastVersion", out var v) && v.GetInt32() == 2,
                "the feedback update's v2", TimeSpan.FromMinutes(2));
            double updateSeconds = Feedback(health).GetProperty("lastUpdateSeconds").GetDouble();
            int n = 0;
            await FeedbackWaits.ForBank(folders, NewId(series), () => folders.Drop(alarm, $"again-{n++}.png"));
            clock.Stop();
            var again = folders.Records().Last();
            output.WriteLine($"FIGURE feedback loop: false alarm moved to feedback/good/ -> v2 live and the same image judged {again.GetProperty("verdict").GetString()} " +
                             $"(score {again.GetProperty("score").GetDouble():F3}, was {score:F3}) in {clock.Elapsed.TotalSeconds:F1} s; the update itself took {updateSeconds:F1} s " +
                             $"(load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}, {Environment.ProcessorCount} cores)");
            Assert.Equal("ok", again.GetProperty("verdict").GetString());
            Assert.NotEqual(v1Id, again.GetProperty("bankId").GetString());
        }

        Assert.Equal(2, BankVersions.Current(series));
        var switched = Assert.Single(folders.BankSwitches());
        Assert.Equal("bottle.v2.pcbank", switched.GetProperty("version").GetString());
        Assert.True(File.Exists(Path.Combine(folders.Outbox, "feedback", "used", "v2", "alarm.png")), "the fed-back image is kept under feedback/used/v2/");
        var kinds = File.ReadAllLines(Path.Combine(folders.Outbox, "feedback", "journal.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("kind").GetString()!).ToArray();
        Assert.Equal(["started", "current"], kinds);
    }

    [DataFact("bottle")]
    public async Task AnUndecodableImageIsRejectedAndAThresholdRiseWaitsForConfirmation()
    {
        using var folders = new DaemonFolders { DefaultBank = false };
        string series = Path.Combine(folders.Root, "bank", "bottle");
        File.Copy(bank.BankA, BankVersions.VersionPath(series, 1));
        BankVersions.SetCurrent(series, 1);
        // Defect images fed back as good, held out for calibration: the ng threshold rises, past a factor of 1.
        string[] args = folders.Args([$"--Inspection:Bank={BankVersions.PointerPath(series)}", .. bank.ThresholdArgs, "--Inspection:SettleMs=200",
            "--Inspection:BankPollIntervalMs=200", "--Inspection:Feedback:Enabled=true", "--Inspection:Feedback:MinImages=3",
            "--Inspection:Feedback:PollIntervalMs=200", "--Inspection:Feedback:MaxThresholdRise=1.0", "--Inspection:Feedback:HoldOutFraction=0.5"]);
        await using (await InProcessDaemon.StartAsync(args, output))
        {
            string good = Path.Combine(folders.Outbox, "feedback", "good");
            Directory.CreateDirectory(good);
            File.WriteAllText(Path.Combine(good, "not-an-image.png"), "text");
            // Settled at once, as the copies (which keep their sources' times): all four are checked in the same pass.
            File.SetLastWriteTimeUtc(Path.Combine(good, "not-an-image.png"), DateTime.UtcNow.AddMinutes(-1));
            for (int i = 0; i < 3; i++) File.Copy(bank.Defects[i], Path.Combine(good, $"defect-{i}.png"));

            var health = await FeedbackWaits.ForHealth(folders, h => Feedback(h).GetProperty("state").GetString() == "awaiting-confirmation",
                "the version awaiting confirmation", TimeSpan.FromMinutes(2));
            output.WriteLine(Feedback(health).GetProperty("pendingReason").GetString());
            Assert.Contains("MaxThresholdRise", Feedback(health).GetProperty("pendingReason").GetString());
            Assert.Equal(1, BankVersions.Current(series)); // written, not current
            Assert.True(File.Exists(BankVersions.VersionPath(series, 2)));
            Assert.True(File.Exists(Path.Combine(folders.Outbox, "feedback", "rejected", "not-an-image.png.reason.txt")));

            File.WriteAllText(Path.Combine(folders.Outbox, "feedback", "confirm"), "");
            await FeedbackWaits.ForHealth(folders, h => Feedback(h).GetProperty("state").GetString() == "idle", "the confirmation");
            Assert.Equal(2, BankVersions.Current(series));
        }
        var kinds = File.ReadAllLines(Path.Combine(folders.Outbox, "feedback", "journal.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("kind").GetString()!).ToArray();
        Assert.Equal(["rejected", "started", "pending", "confirmed"], kinds);
    }

    private static JsonElement Feedback(JsonElement health) =>
        health.GetProperty("products").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "default").GetProperty("feedback");

    private static string NewId(string series)
    {
        using var detector = PatchCoreDetector.Load(BankVersions.PointerPath(series));
        return detector.BankId;
    }

    /// <summary>
    /// The good test image that v1 scores highest; when even that one is judged ok at the bank's thresholds, the review
    /// threshold is set just below its score (the bank's ng threshold stays), so it is a false alarm of the review band.
    /// </summary>
    private (string Image, double Score, string[] Args) FalseAlarm(string v1)
    {
        string[] good = TestData.Images("bottle", Path.Combine("test", "good"));
        using var detector = PatchCoreDetector.Load(v1);
        var scores = new List<(string, double)>();
        foreach (var file in detector.ScoreFiles(good))
            using (file) scores.Add((file.Path, file.Score));
        var (image, score) = scores.MaxBy(s => s.Item2);
        var thresholds = bank.Thresholds;
        if (thresholds.VerdictOf(score) is Verdict.Review or Verdict.Ng) return (image, score, bank.ThresholdArgs);
        return (image, score, [.. bank.ThresholdArgs, $"--Inspection:ReviewThreshold={(score * 0.97).ToString("R", CultureInfo.InvariantCulture)}"]);
    }
}
