using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

[Collection(DaemonCollection.Name)]
public sealed class IntakeTests(BankFixture bank, ITestOutputHelper output)
{
    [DataFact("bottle")]
    public async Task AFileWrittenSlowlyInChunksIsReadOnlyOnceComplete()
    {
        using var folders = new DaemonFolders(bank.BankA);
        byte[] content = File.ReadAllBytes(bank.Good[0]);
        string target = Path.Combine(folders.Inbox, "slow.png");

        await using (await InProcessDaemon.StartAsync(folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=1200"]), output))
        {
            // Written in place (no rename), 6 chunks 500 ms apart: each pause is shorter than SettleMs.
            await using (var stream = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.Read))
            {
                int chunk = (content.Length + 5) / 6;
                for (int offset = 0; offset < content.Length; offset += chunk)
                {
                    await stream.WriteAsync(content.AsMemory(offset, Math.Min(chunk, content.Length - offset)));
                    await stream.FlushAsync();
                    await Task.Delay(500);
                    Assert.True(File.Exists(target), "the daemon took the file while it was still being written");
                    Assert.Empty(folders.Records());
                }
            }
            await folders.WaitForRecords(1, TimeSpan.FromMinutes(1));
        }

        folders.AssertEachExactlyOnce(["slow.png"]);
        var record = folders.Records().Single();
        Assert.Equal(content.Length, record.GetProperty("size").GetInt64());
        Assert.Equal(DaemonFolders.Sha256(bank.Good[0]), record.GetProperty("sha256").GetString());
        Assert.NotEqual("quarantined", record.GetProperty("verdict").GetString());
    }

    [DataFact("bottle")]
    public async Task HiddenAndTemporaryNamesAreLeftAlone()
    {
        using var folders = new DaemonFolders(bank.BankA);
        string[] ignored = [".hidden.png", "upload.png.tmp", "upload.png.part"];
        foreach (string name in ignored) File.Copy(bank.Good[0], Path.Combine(folders.Inbox, name));
        await using (await InProcessDaemon.StartAsync(folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=200"]), output))
        {
            // The writer renames its .part file when done: taken at once, without waiting to settle.
            File.Move(Path.Combine(folders.Inbox, "upload.png.part"), Path.Combine(folders.Inbox, "upload.png"));
            await folders.WaitForRecords(1, TimeSpan.FromMinutes(1));
            await Task.Delay(1000);
        }
        Assert.Single(folders.Records());
        Assert.Equal("upload.png", folders.Records()[0].GetProperty("originalName").GetString());
        Assert.True(File.Exists(Path.Combine(folders.Inbox, ".hidden.png")));
        Assert.True(File.Exists(Path.Combine(folders.Inbox, "upload.png.tmp")));
    }
}
