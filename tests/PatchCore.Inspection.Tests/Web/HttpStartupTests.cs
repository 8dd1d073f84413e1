using System.Net;
using System.Net.Sockets;
using Xunit;

namespace PatchCore.Inspection.Tests.Web;

/// <summary>The daemon as systemd runs it, with HTTP settings that cannot work: it stops with exit code 2 and says why.</summary>
[Collection(DaemonCollection.Name)]
public sealed class HttpStartupTests(BankFixture bank)
{
    [DataFact("bottle")]
    public void AUrlWhosePortIsTakenStopsTheStartNamingTheSetting()
    {
        using var folders = new DaemonFolders(bank.BankA);
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var daemon = DaemonProcess.Start(folders.Args([.. bank.ThresholdArgs, $"--Inspection:Http:Urls=http://127.0.0.1:{port}"]));
        Assert.True(daemon.WaitForExit(TimeSpan.FromMinutes(2)), "still running on a taken port");
        Assert.Equal(2, daemon.ExitCode);
        Assert.Contains($"cannot start: Inspection:Http:Urls: Failed to bind to address http://127.0.0.1:{port}", daemon.Log);
    }

    [Fact]
    public void ListeningBeyondLoopbackWithoutAKeyStopsTheStartBeforeAnythingListens()
    {
        using var folders = new DaemonFolders();
        File.WriteAllText(folders.Bank, "not read: the settings are refused first");
        using var daemon = DaemonProcess.Start(folders.Args("--Inspection:Http:Urls=http://0.0.0.0:0"));
        Assert.True(daemon.WaitForExit(TimeSpan.FromMinutes(1)), "still running without a key");
        Assert.Equal(2, daemon.ExitCode);
        Assert.Contains("Inspection:Http:ApiKey is required when Inspection:Http:Urls listens beyond loopback (http://0.0.0.0:0)", daemon.Log);
        Assert.DoesNotContain("Now listening", daemon.Log);
    }
}
