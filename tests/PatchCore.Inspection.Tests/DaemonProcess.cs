using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace PatchCore.Inspection.Tests;

/// <summary>The built daemon run as a child process (<c>dotnet PatchCore.Inspection.dll ...</c>), as systemd runs it.</summary>
public sealed partial class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DaemonProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    /// <summary>Completes when the process has exited, whatever the reason.</summary>
    public Task Exited => _exited.Task;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>The daemon's build output, copied beside the tests with its runtimeconfig and deps files by the project reference.</summary>
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "PatchCore.Inspection.dll");

    /// <param name="environment">Variables added to the daemon's environment.</param>
    public static DaemonProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(DllPath);
        foreach (string arg in args) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var daemon = new DaemonProcess(process);
        process.Exited += (_, _) => daemon._exited.TrySetResult();
        process.OutputDataReceived += (_, e) => daemon.Append(e.Data);
        process.ErrorDataReceived += (_, e) => daemon.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return daemon;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    /// <summary>SIGKILL: no handler runs, nothing is flushed.</summary>
    public void KillHard()
    {
        try
        {
            if (!_process.HasExited) _process.Kill();
        }
        catch (InvalidOperationException) { } // exited meanwhile
        _process.WaitForExit();
    }

    /// <summary>
    /// Waits until the daemon logs that it watches its inbox: its banks are loaded, the restart's reconciliation is done
    /// and the host handles SIGTERM (a SIGTERM that comes earlier in the start finds the runtime's default and ends the
    /// process with 143). Fails the test if the daemon exits first or the timeout passes.
    /// </summary>
    public async Task WaitUntilWatching(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!Log.Contains("Watching ", StringComparison.Ordinal))
        {
            Xunit.Assert.False(HasExited, Log);
            Xunit.Assert.True(clock.Elapsed < timeout, $"Not watching its inbox after {timeout.TotalSeconds:F0} s:{Environment.NewLine}{Log}");
            await Task.Delay(100);
        }
    }

    /// <summary>SIGTERM, what systemd sends on stop.</summary>
    public void Terminate()
    {
        if (Kill(_process.Id, 15) != 0) throw new InvalidOperationException($"kill -TERM {_process.Id} failed");
    }

    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) return false;
        _process.WaitForExit(); // drains the redirected output
        return true;
    }

    /// <summary>Resident memory now and its peak (VmRSS, VmHWM from /proc), in MiB.</summary>
    public (double Rss, double Peak) Memory()
    {
        double rss = 0, peak = 0;
        try
        {
            foreach (string line in File.ReadLines($"/proc/{_process.Id}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kib(line) / 1024.0;
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kib(line) / 1024.0;
            }
        }
        catch (IOException) { }
        return (rss, peak);
    }

    private static long Kib(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill();
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
