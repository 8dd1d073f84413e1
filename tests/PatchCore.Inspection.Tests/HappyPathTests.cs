using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using PatchCore.Inspection.Observability;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

[Collection(DaemonCollection.Name)]
public sealed class HappyPathTests(BankFixture bank, ITestOutputHelper output)
{
    [DataFact("bottle")]
    public async Task GoodAndDefectImagesLandWhereTheBankSaysWithOneRecordEach()
    {
        using var folders = new DaemonFolders(bank.BankA);
        var sources = bank.Good.Concat(bank.Defects).ToArray();
        var names = sources.Select((s, i) => DaemonFolders.Name(i, s)).ToArray();
        // Two are there before the start, the rest arrive while it runs.
        for (int i = 0; i < 2; i++) folders.Drop(sources[i], names[i]);

        await using (await InProcessDaemon.StartAsync(folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=300", "--Inspection:MaxBatchSize=4"]), output))
        {
            for (int i = 2; i < sources.Length; i++) folders.Drop(sources[i], names[i]);
            await folders.WaitForRecords(sources.Length, TimeSpan.FromMinutes(2));
        }

        folders.AssertEachExactlyOnce(names);
        var records = folders.Records();
        Assert.Contains(records, r => r.GetProperty("verdict").GetString() == "ok");
        Assert.Contains(records, r => r.GetProperty("verdict").GetString() == "ng");
        for (int i = 0; i < sources.Length; i++)
        {
            var record = records.Single(r => r.GetProperty("originalName").GetString() == names[i]);
            string verdict = bank.ExpectedVerdict(sources[i]);
            output.WriteLine($"{names[i]} ({Path.GetFileName(Path.GetDirectoryName(sources[i]))}/{Path.GetFileName(sources[i])}): score {record.GetProperty("score").GetDouble():F4}, {record.GetProperty("verdict").GetString()}");
            Assert.Equal(verdict, record.GetProperty("verdict").GetString());
            Assert.Equal(bank.Scores[sources[i]], record.GetProperty("score").GetDouble(), 4);
            Assert.Equal(bank.Threshold, record.GetProperty("threshold").GetDouble(), 9);
            Assert.Equal(bank.BankAId, record.GetProperty("bankId").GetString());
            Assert.Equal(DaemonFolders.Sha256(sources[i]), record.GetProperty("sha256").GetString());
            Assert.Equal(new FileInfo(sources[i]).Length, record.GetProperty("size").GetInt64());
            string placed = record.GetProperty("path").GetString()!;
            Assert.StartsWith(Path.Combine(folders.Outbox, verdict) + Path.DirectorySeparatorChar, placed);
            Assert.Matches(@"\d{4}-\d{2}-\d{2}$", Path.GetFileName(Path.GetDirectoryName(placed))!);
            Assert.True(File.Exists(record.GetProperty("heatmap").GetString()), "heatmap missing");
            // the defect mask beside the heatmap, the regions and the thresholds they came from
            string mask = record.GetProperty("mask").GetString()!;
            Assert.Equal(Path.GetDirectoryName(record.GetProperty("heatmap").GetString()), Path.GetDirectoryName(mask));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(mask)[..4]);
            Assert.Equal(bank.Thresholds.Review!.Value, record.GetProperty("reviewThreshold").GetDouble(), 9);
            Assert.Equal(bank.Thresholds.Pixel!.Value, record.GetProperty("pixelThreshold").GetDouble(), 9);
            var regions = record.GetProperty("regions");
            Assert.Equal(System.Text.Json.JsonValueKind.Array, regions.ValueKind);
            if (verdict == "ng") Assert.True(regions.GetArrayLength() > 0, $"{names[i]} is ng without a region");
            foreach (var region in regions.EnumerateArray())
                foreach (var key in new[] { "x", "y", "width", "height", "area", "peak", "mean" }) Assert.True(region.TryGetProperty(key, out _), key);
            Assert.True(record.GetProperty("scoredAt").GetDateTimeOffset() >= record.GetProperty("receivedAt").GetDateTimeOffset());
        }
        string health = File.ReadAllText(Path.Combine(folders.Outbox, "health.json"));
        Assert.Contains("\"processed\":" + sources.Length, health);
        Assert.Contains("\"state\":\"stopped\"", health);
    }

    [DataFact("bottle")]
    public async Task ANameThatArrivesAgainGetsASuffixNeverAnOverwrite()
    {
        using var folders = new DaemonFolders(bank.BankA);
        await using (await InProcessDaemon.StartAsync(folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=300"]), output))
        {
            folders.Drop(bank.Good[0], "same.png");
            await folders.WaitForRecords(1, TimeSpan.FromMinutes(1));
            folders.Drop(bank.Good[0], "same.png");
            await folders.WaitForRecords(2, TimeSpan.FromMinutes(1));
        }
        var paths = folders.Records().Select(r => r.GetProperty("path").GetString()!).ToArray();
        Assert.Equal(2, paths.Distinct().Count());
        Assert.All(paths, p => Assert.True(File.Exists(p)));
        Assert.Contains(paths, p => Path.GetFileName(p) == "same~1.png");
    }

    [DataFact("bottle")]
    public async Task BatchesOfLargeImagesTakeFewerFilesByTheirDecodedPixels()
    {
        using var folders = new DaemonFolders(bank.BankA);
        var sources = bank.Good.Concat(bank.Defects).ToArray();
        var names = sources.Select((s, i) => DaemonFolders.Name(i, s)).ToArray();
        long[] sizes = sources.Select(s => SixLabors.ImageSharp.Image.Identify(s) is var info ? (long)info.Width * info.Height : 0).ToArray();
        long pixels = sizes[0];
        Assert.All(sizes, size => Assert.Equal(pixels, size));

        // Room for two of these images' pixels per batch (and a little more, not enough for a third); a delay far longer
        // than the test, so every batch is complete by its limit, never by time.
        string[] args = folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=0", "--Inspection:MaxBatchSize=4",
            $"--Inspection:MaxBatchPixels={2 * pixels + pixels / 2}", "--Inspection:MaxBatchDelayMs=600000"]);
        var daemon = await InProcessDaemon.StartAsync(args, output);
        List<int> batchSizes;
        await using (daemon)
        {
            using var batches = new MetricCollector<int>(daemon.Services.GetRequiredService<InspectionMetrics>().Meter, InspectionMetrics.BatchSizeName);
            // Dropped only now that the collector listens: images waiting at the start made the first batch before it did.
            for (int i = 0; i < sources.Length; i++) folders.Drop(sources[i], names[i]);
            await folders.WaitForRecords(sources.Length, TimeSpan.FromMinutes(2));
            batchSizes = batches.GetMeasurementSnapshot().Select(m => m.Value).ToList();
        }

        folders.AssertEachExactlyOnce(names);
        output.WriteLine($"batches: {string.Join(", ", batchSizes)}");
        // The first batch knows no image size yet and takes MaxBatchSize files; every later one takes two.
        Assert.Equal([4, 2, 2], batchSizes);
    }
}
