using System.Diagnostics;
using PatchCore.Core.Tests;

namespace PatchCore.Cli.Tests;

public sealed record CliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs the built `patchcore` (src/PatchCore.Cli's output, same configuration as this test) as a child process.</summary>
public static class CliRunner
{
    public static string CliDll { get; } = FindCli();

    private static string FindCli()
    {
        string config = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        string dll = Path.Combine(TestData.RepoRoot, "src", "PatchCore.Cli", "bin", config, "net10.0", "patchcore.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"patchcore.dll not found at {dll}: build src/PatchCore.Cli ({config}) first.");
        return dll;
    }

    public static CliResult Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(CliDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"patchcore {string.Join(' ', args)} did not finish in 10 minutes");
        }
        return new CliResult(p.ExitCode, stdout.Result, stderr.Result);
    }
}
