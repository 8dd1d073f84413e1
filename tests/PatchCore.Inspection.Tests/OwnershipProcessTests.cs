using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

/// <summary>The real daemon as child processes: a second one on the same inbox or outbox exits 2 naming the first.</summary>
[Collection(DaemonCollection.Name)]
public sealed class OwnershipProcessTests(BankFixture bank, ITestOutputHelper output)
{
    [DataFact("bottle")]
    public async Task ASecondDaemonProcessOnTheSameInboxOrOutboxExitsWithCode2NamingTheFirst()
    {
        using var folders = new DaemonFolders(bank.BankA);
        string[] args = folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=200"]);
        using var first = DaemonProcess.Start(args);
        await first.WaitUntilWatching(TimeSpan.FromMinutes(2));

        using (var second = DaemonProcess.Start(args))
        {
            Assert.True(second.WaitForExit(TimeSpan.FromMinutes(1)), "the second daemon is still running");
            output.WriteLine(second.Log);
            Assert.Equal(2, second.ExitCode);
            Assert.Contains($"Inbox {folders.Inbox} is owned by another inspection daemon (pid {first.Pid} on host ", second.Log);
        }

        string otherInbox = Directory.CreateDirectory(Path.Combine(folders.Root, "inbox2")).FullName;
        using (var third = DaemonProcess.Start([.. args, $"--Inspection:Inbox={otherInbox}"]))
        {
            Assert.True(third.WaitForExit(TimeSpan.FromMinutes(1)), "the daemon on another inbox is still running");
            Assert.Equal(2, third.ExitCode);
            Assert.Contains($"Outbox {folders.Outbox} is owned by another inspection daemon (pid {first.Pid} on host ", third.Log);
        }

        // The first went on undisturbed, and health.json is still its own.
        folders.Drop(bank.Good[0], "after.png");
        await folders.WaitForRecords(1, TimeSpan.FromMinutes(1), first);
        Assert.Equal(first.Pid, folders.Health().GetProperty("pid").GetInt32());
        first.Terminate();
        Assert.True(first.WaitForExit(TimeSpan.FromSeconds(60)), "no exit after SIGTERM");
        Assert.Equal(0, first.ExitCode);
        folders.AssertEachExactlyOnce(["after.png"]);
    }
}
