using PatchCore.Core.MemoryBank;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Feedback;

/// <summary>
/// The daemon given a bank as a <c>NAME.current</c> pointer: it scores with the version the pointer names, switches
/// when the pointer moves to another version (as <c>patchcore update</c> or the daemon's feedback update does), and
/// goes back when the pointer is edited by hand (a rollback), with and without a memory budget (which loads copies).
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class BankPointerTests(BankFixture bank, ITestOutputHelper output)
{
    [DataTheory("bottle")]
    [InlineData(false)]
    [InlineData(true)]
    public async Task APointerIsFollowedToANewVersionAndBackByAnEditedPointer(bool budget)
    {
        using var folders = new DaemonFolders { DefaultBank = false };
        string series = Path.Combine(folders.Root, "bank", "bottle");
        File.Copy(bank.BankA, BankVersions.VersionPath(series, 1));
        File.Copy(bank.BankB, BankVersions.VersionPath(series, 2));
        BankVersions.SetCurrent(series, 1);
        string pointer = BankVersions.PointerPath(series);
        string[] args = folders.Args([$"--Inspection:Bank={pointer}", .. bank.ThresholdArgs, "--Inspection:SettleMs=200",
            "--Inspection:BankPollIntervalMs=200", .. budget ? ["--Inspection:BankMemoryBudgetMb=1000"] : Array.Empty<string>()]);

        await using (await InProcessDaemon.StartAsync(args, output))
        {
            folders.Drop(bank.Good[0], "v1.png");
            await FeedbackWaits.ForRecord(folders, "v1.png");

            BankVersions.SetCurrent(series, 2); // what an update does once the new version is written
            await FeedbackWaits.ForBank(folders, bank.BankBId, () => folders.Drop(bank.Good[1], $"probe-{Guid.NewGuid():N}.png"));
            folders.Drop(bank.Good[2], "v2.png");
            await FeedbackWaits.ForRecord(folders, "v2.png");

            File.WriteAllText(pointer, "bottle.v1.pcbank\n"); // a rollback by hand: one line edited in place
            await FeedbackWaits.ForBank(folders, bank.BankAId, () => folders.Drop(bank.Good[1], $"probe-{Guid.NewGuid():N}.png"));
            folders.Drop(bank.Good[3], "back-to-v1.png");
            await FeedbackWaits.ForRecord(folders, "back-to-v1.png");
        }

        Assert.Equal(bank.BankAId, folders.RecordOf("v1.png").GetProperty("bankId").GetString());
        Assert.Equal(bank.BankBId, folders.RecordOf("v2.png").GetProperty("bankId").GetString());
        Assert.Equal(bank.BankAId, folders.RecordOf("back-to-v1.png").GetProperty("bankId").GetString());
        // Each switch is journaled in results.jsonl, between the records of the old bank and those of the new.
        var switches = folders.BankSwitches();
        Assert.Equal(["bottle.v2.pcbank", "bottle.v1.pcbank"], switches.Select(s => s.GetProperty("version").GetString()!));
        Assert.Equal([bank.BankBId, bank.BankAId], switches.Select(s => s.GetProperty("toBankId").GetString()!));
        Assert.All(switches, s => Assert.Equal("default", s.GetProperty("product").GetString()));
    }
}
