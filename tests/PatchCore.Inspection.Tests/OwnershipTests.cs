using System.Text.Json;
using PatchCore.Core;
using PatchCore.Inspection.Ownership;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

/// <summary>One daemon per inbox and per outbox, in one process (these) and across processes (<see cref="OwnershipProcessTests"/>).</summary>
public sealed class OwnershipTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ASecondDaemonOnTheSameFoldersIsRefusedNamingTheFirstWhichKeepsWorking()
    {
        using var folders = FakeDaemon.NewFolders();
        var first = await FakeDaemon.StartAsync(folders, output);
        try
        {
            var second = new FakeDaemon(folders, output);
            await using (second)
            {
                var e = await Assert.ThrowsAsync<PatchCoreException>(second.StartAsync);
                output.WriteLine(e.Message);
                Assert.StartsWith($"Inbox {folders.Inbox} is owned by another inspection daemon (pid {Environment.ProcessId} on host {Environment.MachineName} since ", e.Message);
                Assert.EndsWith($"; lock {Path.Combine(folders.Inbox, ".inspection", "inbox.lock")}).", e.Message);
            }
            Assert.Empty(second.Loader.Loaded); // refused before its bank was loaded

            folders.DropText("a.png", "0.1");
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
            Assert.Equal(["a.png"], first.Script.Calls.SelectMany(c => c).Select(Path.GetFileName));
        }
        finally
        {
            await first.DisposeAsync();
        }

        await using (await FakeDaemon.StartAsync(folders, output))
        {
            folders.DropText("b.png", "0.1");
            await folders.WaitForRecords(2, TimeSpan.FromSeconds(30));
        }
        folders.AssertEachExactlyOnce(["a.png", "b.png"]);
    }

    [Fact]
    public async Task AnotherInboxOnTheSameOutboxIsRefusedAndLetsGoOfItsInbox()
    {
        using var folders = FakeDaemon.NewFolders();
        string otherInbox = Directory.CreateDirectory(Path.Combine(folders.Root, "inbox2")).FullName;
        await using (await FakeDaemon.StartAsync(folders, output))
        {
            var e = await Assert.ThrowsAsync<PatchCoreException>(() => FakeDaemon.StartAsync(folders, output, $"--Inspection:Inbox={otherInbox}"));
            Assert.StartsWith($"Outbox {folders.Outbox} is owned by another inspection daemon (pid {Environment.ProcessId}", e.Message);
            Assert.Contains($"inbox {folders.Inbox}, outbox {folders.Outbox}", e.Message);

            // The refused daemon had taken the other inbox's lock first; it let go of it.
            string otherOutbox = Path.Combine(folders.Root, "outbox2");
            await using (await FakeDaemon.StartAsync(folders, output, $"--Inspection:Inbox={otherInbox}", $"--Inspection:Outbox={otherOutbox}"))
            {
            }
        }
    }

    /// <summary>With .NET's file locking switched off the lock would hold nothing: the daemon must not start.</summary>
    [Fact]
    public void ADaemonWhoseFileLockingIsSwitchedOffRefusesToStart()
    {
        using var folders = FakeDaemon.NewFolders(); // its bank is never loaded: the locks come first
        using var daemon = DaemonProcess.Start(folders.Args(), new Dictionary<string, string> { ["DOTNET_SYSTEM_IO_DISABLEFILELOCKING"] = "1" });
        Assert.True(daemon.WaitForExit(TimeSpan.FromMinutes(1)), "still running without file locking");
        output.WriteLine(daemon.Log);
        Assert.Equal(2, daemon.ExitCode);
        Assert.Contains("file locking is disabled in this process", daemon.Log);
        Assert.False(File.Exists(Path.Combine(folders.Outbox, "health.json")), "the refused daemon wrote to the outbox");
    }

    [Fact]
    public void AFolderLockIsExclusiveWithinOneProcessNamesItsHolderAndIsFreedOnDispose()
    {
        string root = Directory.CreateTempSubdirectory("patchcore-inspection-lock-").FullName;
        try
        {
            string state = Path.Combine(root, ".inspection");
            var me = new LockHolder(4242, "line-3", DateTimeOffset.Parse("2025-03-01T06:00:00Z"), "/in", "/out", "dotnet PatchCore.Inspection.dll");
            using (var held = FolderLock.Acquire("Inbox", root, state, "inbox", me))
            {
                var e = Assert.Throws<PatchCoreException>(() => FolderLock.Acquire("Inbox", root, state, "inbox", me with { Pid = 1 }));
                Assert.Equal($"Inbox {root} is owned by another inspection daemon (pid 4242 on host line-3 since 2025-03-01T06:00:00Z, inbox /in, outbox /out; lock {held.LockFile}).", e.Message);
                var written = JsonDocument.Parse(File.ReadAllText(FolderLock.HolderFile(held.LockFile))).RootElement;
                Assert.Equal("dotnet PatchCore.Inspection.dll", written.GetProperty("commandLine").GetString());
            }
            using (FolderLock.Acquire("Inbox", root, state, "inbox", me with { Pid = 1 }))
            {
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
