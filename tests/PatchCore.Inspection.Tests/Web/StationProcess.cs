using System.Text.RegularExpressions;
using Xunit;

namespace PatchCore.Inspection.Tests.Web;

/// <summary>The built daemon as a child process serving HTTP on a free loopback port, and where it listens.</summary>
internal static partial class StationProcess
{
    /// <summary>Starts the daemon with HTTP on 127.0.0.1, port chosen by Kestrel, and waits until it listens.</summary>
    public static async Task<(DaemonProcess Daemon, Uri Address)> StartAsync(DaemonFolders folders, params string[] args)
    {
        var daemon = DaemonProcess.Start(folders.Args([.. args, "--Inspection:Http:Urls=http://127.0.0.1:0"]));
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            // The daemon's own line (event 711) names the address once the port is bound.
            if (Listening().Match(daemon.Log) is { Success: true } match) return (daemon, new Uri(match.Groups[1].Value));
            if (daemon.HasExited || DateTime.UtcNow > deadline)
            {
                string log = daemon.Log;
                daemon.Dispose();
                Assert.Fail($"The daemon did not start listening.\n{log}");
            }
            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"HTTP API on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();
}
