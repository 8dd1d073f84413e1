using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

/// <summary>Which inbox files are taken and when, with a fake scorer.</summary>
public sealed class IntakeUnitTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(".hidden.png", true)]
    [InlineData("upload.png.tmp", true)]
    [InlineData("upload.png.PART", true)]
    [InlineData(".inspection", true)]
    [InlineData("part.png", false)]
    [InlineData("img.tmp.png", false)]
    public void HiddenAndTemporaryNamesAreIgnored(string name, bool ignored) => Assert.Equal(ignored, InboxNames.IsIgnored(name));

    [Fact]
    public async Task APartFileIsTakenWhenItsWriterRenamesItAndHiddenOnesNever()
    {
        using var folders = FakeDaemon.NewFolders();
        foreach (string name in new[] { ".hidden.png", "upload.png.tmp", "upload.png.part" })
            File.WriteAllText(Path.Combine(folders.Inbox, name), "0.1");
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, "--Inspection:SettleMs=200"))
        {
            File.Move(Path.Combine(folders.Inbox, "upload.png.part"), Path.Combine(folders.Inbox, "upload.png"));
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
            // A later file, found by the same rescans that would have found the hidden ones.
            folders.DropText("later.png", "0.2");
            await folders.WaitForRecords(2, TimeSpan.FromSeconds(30));
            Assert.Equal(["later.png", "upload.png"], daemon.Script.Calls.SelectMany(c => c).Select(Path.GetFileName).Order());
        }
        Assert.True(File.Exists(Path.Combine(folders.Inbox, ".hidden.png")));
        Assert.True(File.Exists(Path.Combine(folders.Inbox, "upload.png.tmp")));
        Assert.Equal(2, folders.Records().Count);
    }

    [Fact]
    public async Task AFileWrittenInPlaceIsTakenOnlyOnceItHasSettled()
    {
        using var folders = FakeDaemon.NewFolders();
        string target = Path.Combine(folders.Inbox, "slow.png");
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, "--Inspection:SettleMs=1500"))
        {
            // Written in place (no rename), a character every 100 ms: each pause is far shorter than SettleMs.
            await using (var stream = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.Read))
            {
                foreach (byte b in "0.123"u8.ToArray())
                {
                    stream.WriteByte(b);
                    await stream.FlushAsync();
                    await Task.Delay(100);
                    Assert.True(File.Exists(target), "the daemon took the file while it was still being written");
                }
            }
            Assert.Empty(daemon.Script.Calls);
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
        }
        folders.AssertEachExactlyOnce(["slow.png"]);
        Assert.Equal(0.123, folders.RecordOf("slow.png").GetProperty("score").GetDouble());
    }
}
