using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

[Collection(DaemonCollection.Name)]
public sealed class QuarantineTests(BankFixture bank, ITestOutputHelper output)
{
    [DataFact("bottle")]
    public async Task BadFilesGoToQuarantineWithReasonsAndTheDaemonGoesOn()
    {
        using var folders = new DaemonFolders(bank.BankA);
        byte[] png = File.ReadAllBytes(bank.Good[0]);
        var bad = new Dictionary<string, byte[]>
        {
            ["zero.png"] = [],
            ["text.png"] = "this is not an image\n"u8.ToArray(),
            ["truncated.png"] = png[..(png.Length / 2)],
            ["corrupt.png"] = [.. png[..64], .. Enumerable.Range(0, 4000).Select(i => (byte)(i * 7919 % 251))],
            // A valid PNG with more pixels than MaxPixels allows.
            ["huge-pixels.png"] = Png(800, 600),
            // A valid PNG padded past MaxFileBytes.
            ["huge-bytes.png"] = [.. png, .. new byte[400_000]],
        };
        foreach (var (name, bytes) in bad)
        {
            File.WriteAllBytes(Path.Combine(folders.Drafts, name), bytes);
            File.Move(Path.Combine(folders.Drafts, name), Path.Combine(folders.Inbox, name));
        }
        string[] args = folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=300", "--Inspection:MaxPixels=400000", "--Inspection:MaxFileBytes=300000"]);

        await using (await InProcessDaemon.StartAsync(args, output))
        {
            await folders.WaitForRecords(bad.Count, TimeSpan.FromMinutes(1));
            folders.Drop(bank.Good[1], "after.png");
            await folders.WaitForRecords(bad.Count + 1, TimeSpan.FromMinutes(1));
        }

        folders.AssertEachExactlyOnce([.. bad.Keys, "after.png"]);
        var records = folders.Records();
        foreach (string name in bad.Keys)
        {
            var record = records.Single(r => r.GetProperty("originalName").GetString() == name);
            string reason = record.GetProperty("reason").GetString()!;
            output.WriteLine($"{name}: {reason}");
            Assert.Equal("quarantined", record.GetProperty("verdict").GetString());
            Assert.False(string.IsNullOrWhiteSpace(reason));
            string placed = record.GetProperty("path").GetString()!;
            Assert.Equal(Path.Combine(folders.Outbox, "quarantine", name), placed);
            Assert.Contains(reason, File.ReadAllText(placed + ".reason.txt"));
        }
        Assert.Contains("zero-byte", Reason(records, "zero.png"));
        Assert.Contains("MaxFileBytes", Reason(records, "huge-bytes.png"));
        Assert.Contains("after.png", records.Where(r => r.GetProperty("verdict").GetString() != "quarantined").Select(r => r.GetProperty("originalName").GetString()));
    }

    private static string Reason(List<System.Text.Json.JsonElement> records, string name) =>
        records.Single(r => r.GetProperty("originalName").GetString() == name).GetProperty("reason").GetString()!;

    private static byte[] Png(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(90, 120, 60));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}
