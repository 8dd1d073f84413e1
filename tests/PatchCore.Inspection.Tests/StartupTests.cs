using Xunit;

namespace PatchCore.Inspection.Tests;

[Collection(DaemonCollection.Name)]
public sealed class StartupTests(BankFixture bank)
{
    [DataFact("bottle")]
    public void ACorruptBankStopsTheStartWithAClearMessageAndExitCode2()
    {
        using var folders = new DaemonFolders(bank.BankA);
        File.WriteAllBytes(folders.Bank, [1, 2, 3, 4, 5]);
        using var daemon = DaemonProcess.Start(folders.Args());
        Assert.True(daemon.WaitForExit(TimeSpan.FromMinutes(1)), "still running with a corrupt bank");
        Assert.Equal(2, daemon.ExitCode);
        Assert.Contains(folders.Bank, daemon.Log);
        Assert.Contains("cannot start", daemon.Log);
    }

    [Fact]
    public void AMissingInboxAndBankStopTheStartNamingBoth()
    {
        string root = Directory.CreateTempSubdirectory("patchcore-inspection-").FullName;
        try
        {
            string inbox = Path.Combine(root, "no-inbox"), bankFile = Path.Combine(root, "no-bank.bin");
            using var daemon = DaemonProcess.Start([$"--Inspection:Inbox={inbox}", $"--Inspection:Bank={bankFile}", $"--Inspection:Outbox={Path.Combine(root, "out")}"]);
            Assert.True(daemon.WaitForExit(TimeSpan.FromMinutes(1)), "still running without an inbox");
            Assert.Equal(2, daemon.ExitCode);
            Assert.Contains($"Inbox folder {inbox} does not exist", daemon.Log);
            Assert.Contains($"Bank file {bankFile} does not exist", daemon.Log);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void MissingRequiredSettingsAreNamed()
    {
        using var daemon = DaemonProcess.Start(["--Inspection:MaxBatchSize=0", "--Inspection:Search=annoy"]);
        Assert.True(daemon.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Equal(2, daemon.ExitCode);
        Assert.Contains("Inspection:Inbox is required", daemon.Log);
        Assert.Contains("Inspection:MaxBatchSize must be between", daemon.Log);
        Assert.Contains("Inspection:Search: Unknown search 'annoy'", daemon.Log);
    }
}
