using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Xunit;

namespace PatchCore.Inspection.Tests.Mqtt;

/// <summary>
/// A real Mosquitto broker (Debian's mosquitto 2.x, MQTT 5) for one test: its own process on a free loopback port, its
/// generated configuration, password file and persistence in a temporary folder, stopped and removed on dispose. It
/// can be killed (SIGKILL), stopped (SIGTERM) and started again on the same port with the same persistence, which is
/// what the outage tests do. Persistence is on with a one-second autosave so a subscriber's session and the messages
/// queued for it survive a restart, as a plant's broker should be set up; tests that need it off say so.
/// </summary>
internal sealed partial class MosquittoBroker : IDisposable
{
    private readonly StringBuilder _log = new();
    private readonly string _config;
    private Process? _process;

    private MosquittoBroker(string folder, int port, string config)
    {
        Folder = folder;
        Port = port;
        _config = config;
    }

    /// <summary>Where Debian installs the broker (not on a plain user's PATH), else the first one on the PATH; null when there is none.</summary>
    public static string? Executable { get; } = Find();

    /// <summary>Why MQTT tests cannot run here, or null when they can.</summary>
    public static string? Missing => Executable is null
        ? "mosquitto (the MQTT broker) is not installed: bash tools/install-deps.sh installs it (Debian's mosquitto and mosquitto-clients)."
        : null;

    public string Folder { get; }
    public int Port { get; }

    /// <summary>What the broker wrote on its terminal and in its log file.</summary>
    public string Log
    {
        get
        {
            string file = Path.Combine(Folder, "mosquitto.log");
            lock (_log) return _log + (File.Exists(file) ? File.ReadAllText(file) : "");
        }
    }

    /// <summary>The settings a daemon needs to publish to this broker.</summary>
    public string[] DaemonArgs(string topicPrefix, params string[] more) =>
    [
        "--Inspection:Mqtt:Server=127.0.0.1", $"--Inspection:Mqtt:Port={Port}", $"--Inspection:Mqtt:TopicPrefix={topicPrefix}",
        "--Inspection:Mqtt:ReconnectDelayMs=200", "--Inspection:Mqtt:ReconnectMaxDelayMs=1000", "--Inspection:Mqtt:StatusIntervalMs=500",
        .. more,
    ];

    /// <param name="users">User name to password; when given, anonymous clients are refused.</param>
    /// <param name="tls">Certificate files for a TLS listener (instead of plain TCP).</param>
    /// <param name="persistence">False: nothing survives a restart.</param>
    public static MosquittoBroker Start(IReadOnlyDictionary<string, string>? users = null, BrokerCertificates? tls = null, bool persistence = true)
    {
        if (Executable is null)
            throw new Xunit.Sdk.XunitException(Missing);
        string folder = Directory.CreateTempSubdirectory("patchcore-mosquitto-").FullName;
        int port = FreePort();
        var config = new StringBuilder()
            .Append("listener ").Append(port).Append(" 127.0.0.1\n")
            // Run as whoever runs the tests: as root, Mosquitto would otherwise switch to a user that cannot read this folder.
            .Append("user ").Append(Environment.UserName).Append('\n')
            // A file rather than stdout, which Mosquitto buffers when it is not a terminal: the log is there for a test to print.
            .Append("log_dest file ").Append(Path.Combine(folder, "mosquitto.log")).Append("\nlog_type all\nconnection_messages true\n");
        if (tls is not null)
            config.Append($"cafile {tls.CaFile}\ncertfile {tls.CertFile}\nkeyfile {tls.KeyFile}\n");
        if (users is { Count: > 0 })
        {
            string passwords = Path.Combine(folder, "passwords");
            foreach (var (user, password) in users) AddUser(passwords, user, password);
            config.Append($"allow_anonymous false\npassword_file {passwords}\n");
        }
        else
        {
            config.Append("allow_anonymous true\n");
        }
        config.Append(persistence ? $"persistence true\npersistence_location {folder}/\nautosave_interval 1\n" : "persistence false\n");
        string configFile = Path.Combine(folder, "mosquitto.conf");
        File.WriteAllText(configFile, config.ToString());
        var broker = new MosquittoBroker(folder, port, configFile);
        try
        {
            broker.Run();
            return broker;
        }
        catch
        {
            broker.Dispose();
            throw;
        }
    }

    /// <summary>Starts the broker again after <see cref="Kill"/> or <see cref="Stop"/>: same port, configuration and persistence.</summary>
    public void Restart()
    {
        if (_process is { HasExited: false }) throw new InvalidOperationException("The broker is still running.");
        Run();
    }

    /// <summary>SIGKILL: the broker vanishes without a word to its clients and without saving.</summary>
    public void Kill()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGTERM: the broker saves its persistence and closes its connections.</summary>
    public void Stop()
    {
        if (_process is null || _process.HasExited) return;
        _ = SendSignal(_process.Id, 15);
        if (!_process.WaitForExit(TimeSpan.FromSeconds(10))) Kill();
        _process.WaitForExit();
    }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The broker's process id (for its CPU time in /proc/PID/stat).</summary>
    public int Pid => _process?.Id ?? throw new InvalidOperationException("The broker is not running.");

    /// <summary>
    /// Waits for a save of the broker's persistence after <paramref name="since"/> (within a second or so with the
    /// autosave interval set here), so what changed before then (a subscription) survives a <see cref="Kill"/>.
    /// </summary>
    public Task WaitForSaveAsync(DateTime since)
    {
        string database = Path.Combine(Folder, "mosquitto.db");
        return Fakes.Eventually.True(() => File.Exists(database) && File.GetLastWriteTimeUtc(database) > since, "the broker's persistence saved", TimeSpan.FromSeconds(20));
    }

    private void Run()
    {
        var info = new ProcessStartInfo(Executable!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(_config);
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process?.Dispose();
        _process = process;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            if (process.HasExited)
                throw new Xunit.Sdk.XunitException($"mosquitto exited with code {process.ExitCode} at start:\n{Log}");
            if (Listening(Port)) return;
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"mosquitto does not listen on 127.0.0.1:{Port} after 15 s:\n{Log}");
            Thread.Sleep(20);
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>mosquitto_passwd (shipped with the broker) hashes the password into the file Mosquitto reads.</summary>
    private static void AddUser(string file, string user, string password)
    {
        string tool = Path.Combine(Path.GetDirectoryName(Executable!)!, "..", "bin", "mosquitto_passwd");
        if (!File.Exists(tool)) tool = "mosquitto_passwd";
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])["-b", .. File.Exists(file) ? Array.Empty<string>() : ["-c"], file, user, password]) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new Xunit.Sdk.XunitException($"mosquitto_passwd failed ({process.ExitCode}): {output}");
    }

    private static string? Find()
    {
        foreach (string candidate in new[] { "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto" })
            if (File.Exists(candidate)) return candidate;
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, "mosquitto");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int SendSignal(int pid, int signal);

    public void Dispose()
    {
        try { Kill(); }
        catch (InvalidOperationException) { }
        _process?.Dispose();
        try { Directory.Delete(Folder, recursive: true); }
        catch (IOException) { }
    }
}
