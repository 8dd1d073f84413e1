using System.Diagnostics;
using System.Runtime.InteropServices;
using PatchCore.Core;

namespace PatchCore.Bench;

/// <summary>
/// The inspection daemon (src/PatchCore.Inspection, the real host) run as a child process, <c>dotnet
/// PatchCore.Inspection.dll ARGS</c>, as systemd runs it; its build output lies beside the bench through the project
/// reference. Keeps the last lines of its log for a failure message. Dispose kills it if it still runs.
/// </summary>
internal sealed partial class InspectionDaemon : IDisposable
{
    private const int KeptLines = 40;
    private readonly Process _process;
    private readonly Queue<string> _tail = new();
    private volatile bool _watching;

    private InspectionDaemon(Process process) => _process = process;

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    public string LogTail
    {
        get { lock (_tail) return string.Join(Environment.NewLine, _tail); }
    }

    /// <param name="environment">Variables added to the daemon's environment.</param>
    public static InspectionDaemon Start(IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "PatchCore.Inspection.dll");
        if (!File.Exists(dll)) throw new PatchCoreException($"The daemon's build output {dll} is missing (build tools/PatchCore.Bench, which references it).");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (string arg in args) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment) info.Environment[name] = value;
        var process = new Process { StartInfo = info };
        var daemon = new InspectionDaemon(process);
        process.OutputDataReceived += (_, e) => daemon.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => daemon.Keep(e.Data);
        if (!process.Start()) throw new PatchCoreException("Could not start the inspection daemon.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return daemon;
    }

    /// <summary>Waits for the daemon's "Watching" line (banks loaded, outbox reconciled, inbox watched).</summary>
    public void WaitUntilWatching(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!_watching)
        {
            if (_process.HasExited) throw new PatchCoreException($"The daemon exited with code {_process.ExitCode} before watching its inbox:{Environment.NewLine}{LogTail}");
            if (deadline.Elapsed > timeout) throw new PatchCoreException($"The daemon did not watch its inbox within {timeout.TotalSeconds:F0} s:{Environment.NewLine}{LogTail}");
            Thread.Sleep(100);
        }
    }

    /// <summary>SIGTERM (what systemd sends), then waits for the exit; returns the exit code, or null when it did not exit in time.</summary>
    public int? Stop(TimeSpan timeout)
    {
        if (!_process.HasExited) _ = Kill(_process.Id, 15);
        if (!_process.WaitForExit(timeout)) return null;
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        if (line.Contains("Watching ", StringComparison.Ordinal)) _watching = true;
        lock (_tail)
        {
            _tail.Enqueue(line);
            while (_tail.Count > KeptLines) _tail.Dequeue();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill();
        }
        catch (InvalidOperationException) { } // exited meanwhile
        _process.Dispose();
    }
}
