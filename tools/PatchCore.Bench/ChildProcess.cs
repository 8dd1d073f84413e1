using System.Diagnostics;
using System.Text.Json;
using PatchCore.Core;

namespace PatchCore.Bench;

/// <summary>
/// Runs one measurement in a fresh process of this same bench (hidden <c>--child KIND JSON</c>), so that its
/// peak RSS (VmHWM) belongs to that measurement alone. The child writes progress to stderr (passed through) and
/// its result as one marked JSON line on stdout.
/// </summary>
internal static class ChildProcess
{
    private const string ResultMarker = "@@bench-result ";

    public static TResult Run<TTask, TResult>(string kind, TTask task)
    {
        var start = new ProcessStartInfo { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = false };
        string host = Environment.ProcessPath ?? throw new PatchCoreException("Cannot find this process's executable to start a child measurement.");
        start.FileName = host;
        // Under `dotnet PatchCore.Bench.dll` the executable is the dotnet host, which needs the dll first.
        if (string.Equals(Path.GetFileNameWithoutExtension(host), "dotnet", StringComparison.Ordinal))
            start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        start.ArgumentList.Add("--child");
        start.ArgumentList.Add(kind);
        start.ArgumentList.Add(JsonSerializer.Serialize(task));

        using var process = Process.Start(start) ?? throw new PatchCoreException($"Could not start the child measurement '{kind}'.");
        string? resultJson = null;
        while (process.StandardOutput.ReadLine() is { } line)
        {
            if (line.StartsWith(ResultMarker, StringComparison.Ordinal)) resultJson = line[ResultMarker.Length..];
            else Console.Error.WriteLine(line);
        }
        process.WaitForExit();
        if (process.ExitCode != 0 || resultJson is null)
            throw new PatchCoreException($"Child measurement '{kind}' failed (exit code {process.ExitCode}); its error is above.");
        return JsonSerializer.Deserialize<TResult>(resultJson) ?? throw new PatchCoreException($"Child measurement '{kind}' returned no result.");
    }

    /// <summary>In the child: the result line the parent reads.</summary>
    public static void WriteResult<TResult>(TResult result)
    {
        Console.Out.WriteLine(ResultMarker + JsonSerializer.Serialize(result));
        Console.Out.Flush();
    }

    public static TTask ReadTask<TTask>(string json) =>
        JsonSerializer.Deserialize<TTask>(json) ?? throw new PatchCoreException("The child measurement got an empty task.");
}
