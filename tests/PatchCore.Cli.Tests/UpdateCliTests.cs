using System.Text.Json;
using PatchCore.Core.Tests;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Cli.Tests;

/// <summary>The 20 sample bottles copied into two folders of 10, and a bank built from the first with the real command.</summary>
public sealed class UpdateCliFixture : IDisposable
{
    public UpdateCliFixture()
    {
        Dir = Directory.CreateTempSubdirectory("pc-cli-update-").FullName;
        var samples = Directory.GetFiles(Path.Combine(TestData.RepoRoot, "samples", "bottle", "train", "good"), "*.png").Order(StringComparer.Ordinal).ToArray();
        First = Copy(samples[..10], "first");
        Second = Copy(samples[10..], "second");
        Bank = Path.Combine(Dir, "bottle.pcbank");
        Build = CliRunner.Run("build", "--train", First, "--out", Bank);
        BankBytes = File.Exists(Bank) ? File.ReadAllBytes(Bank) : [];
    }

    public string Dir { get; }
    public string First { get; }
    public string Second { get; }
    public string Bank { get; }
    public byte[] BankBytes { get; }
    public CliResult Build { get; }
    public string SampleTest => Path.Combine(TestData.RepoRoot, "samples", "bottle", "test");

    public string NewFolder(string name) => Directory.CreateDirectory(Path.Combine(Dir, name)).FullName;

    private string Copy(string[] files, string folder)
    {
        string dir = Directory.CreateDirectory(Path.Combine(Dir, folder)).FullName;
        foreach (string f in files) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}

public sealed class UpdateCliTests(UpdateCliFixture f, ITestOutputHelper output) : IClassFixture<UpdateCliFixture>
{
    private CliResult Run(params string[] args)
    {
        var r = CliRunner.Run(args);
        output.WriteLine($"$ patchcore {string.Join(' ', args)}  -> exit {r.ExitCode}\n{r.Stdout}{r.Stderr}");
        return r;
    }

    [Fact]
    public void UpdatePrintsWhatItAddedAndTheThresholdChangeAndLeavesTheOldBank()
    {
        Assert.Equal(0, f.Build.ExitCode);
        string updated = Path.Combine(f.NewFolder("coverage"), "updated.pcbank");
        var r = Run("update", "--bank", f.Bank, "--add", f.Second, "--out", updated);
        Assert.Equal(0, r.ExitCode);
        Assert.True(File.Exists(updated));
        Assert.Contains($"Bank written: {updated}", r.Stderr);
        Assert.Contains("9 added to the bank, 1 held out for calibration", r.Stderr);
        Assert.Matches(@"7,056 new candidates -> [0-9,]+ vectors added by coverage radius [0-9.]+ \(the parent's\)", r.Stderr);
        Assert.Matches(@"ng +[0-9.]+ -> [0-9.]+ \([+-][0-9.]+%\)", r.Stderr);
        Assert.Matches(@"review +[0-9.]+ -> [0-9.]+ \([+-][0-9.]+%\)", r.Stderr);
        Assert.Matches(@"pixel +[0-9.]+ -> [0-9.]+ \([+-][0-9.]+%\)", r.Stderr);
        Assert.Contains("4 held-out images scored against the new bank", r.Stderr);
        Assert.Equal(f.BankBytes, File.ReadAllBytes(f.Bank));

        var count = Run("update", "--bank", f.Bank, "--add", f.Second, "--out", Path.Combine(f.Dir, "count.pcbank"), "--coreset", "25");
        Assert.Equal(0, count.ExitCode);
        Assert.Contains("-> 25 vectors added by count 25", count.Stderr);

        // the updated bank scores like any bank
        var score = Run("score", "--bank", updated, Path.Combine(f.SampleTest, "good_000.png"), "--json");
        Assert.Equal(0, score.ExitCode);
        Assert.True(JsonDocument.Parse(score.Stdout.Trim()).RootElement.GetProperty("score").GetDouble() > 0);
    }

    [Fact]
    public void VersionsListRollbackAndScoreThroughThePointer()
    {
        string dir = f.NewFolder("versions");
        string plain = Path.Combine(dir, "bottle.pcbank");
        File.Copy(f.Bank, plain);
        var v2 = Run("update", "--bank", plain, "--add", f.Second, "--version", "--coreset", "10");
        Assert.Equal(0, v2.ExitCode);
        Assert.Contains("(version v2, now current)", v2.Stderr);
        Assert.Equal(f.BankBytes, File.ReadAllBytes(Path.Combine(dir, "bottle.v1.pcbank")));
        var v3 = Run("update", "--bank", Path.Combine(dir, "bottle.current"), "--add", f.First, "--version", "--coreset", "5");
        Assert.Equal(0, v3.ExitCode);
        Assert.Equal("bottle.v3.pcbank", File.ReadAllText(Path.Combine(dir, "bottle.current")).Trim());
        File.WriteAllText(Path.Combine(dir, "bottle.current.tmp-1-leftover"), "bottle.v1.pcbank\n"); // a killed writer's temp file

        var list = Run("bank", "list", Path.Combine(dir, "bottle"));
        Assert.Equal(0, list.ExitCode);
        string[] lines = list.Stdout.Split('\n');
        Assert.Single(lines, l => l.Contains(" v1 ") && l.Contains("(built)") && l.Contains("7 (build)"));
        Assert.Single(lines, l => l.Contains(" v2 ") && l.Contains("v1 ") && l.Contains("10 (10 vectors)"));
        Assert.Single(lines, l => l.Contains("current") && l.Contains(" v3 ") && l.Contains("10 (5 vectors)"));

        var back = Run("bank", "rollback", Path.Combine(dir, "bottle"));
        Assert.Equal(0, back.ExitCode);
        Assert.Contains("v3 -> v2", back.Stderr);
        Assert.Equal(0, Run("bank", "rollback", Path.Combine(dir, "bottle.current")).ExitCode);
        var noParent = Run("bank", "rollback", Path.Combine(dir, "bottle"));
        Assert.Equal(1, noParent.ExitCode);
        Assert.Contains("has no parent", noParent.Stderr);
        var missing = Run("bank", "rollback", Path.Combine(dir, "bottle"), "--to", "v9");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("v9 does not exist", missing.Stderr);
        Assert.Equal(0, Run("bank", "rollback", Path.Combine(dir, "bottle"), "--to", "3").ExitCode);

        byte[] v2Bytes = File.ReadAllBytes(Path.Combine(dir, "bottle.v2.pcbank"));
        v2Bytes[^17] ^= 1;
        File.WriteAllBytes(Path.Combine(dir, "bottle.v2.pcbank"), v2Bytes);
        var corrupt = Run("bank", "rollback", Path.Combine(dir, "bottle"));
        Assert.Equal(1, corrupt.ExitCode);
        Assert.Contains("bottle.v2.pcbank", corrupt.Stderr);
        Assert.Contains("checksum mismatch", corrupt.Stderr);
        Assert.Equal("bottle.v3.pcbank", File.ReadAllText(Path.Combine(dir, "bottle.current")).Trim());
        Assert.Contains("unusable: checksum mismatch", Run("bank", "list", Path.Combine(dir, "bottle")).Stdout);

        var score = Run("score", "--bank", Path.Combine(dir, "bottle.current"), Path.Combine(f.SampleTest, "good_000.png"), "--json");
        Assert.Equal(0, score.ExitCode);
    }

    [Fact]
    public void RefusalsExitOneNamingTheBankOrFolderAndTheProblem()
    {
        string dir = f.NewFolder("refusals");
        string outPath = Path.Combine(dir, "out.pcbank");
        void Refused(string mentions, string problem, params string[] args)
        {
            var r = Run(args);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains(mentions, r.Stderr);
            Assert.Contains(problem, r.Stderr);
            Assert.False(File.Exists(outPath));
        }

        Refused("--out", "--version", "update", "--bank", f.Bank, "--add", f.Second, "--out", outPath, "--version");
        Refused(f.Bank, "the output is the bank being updated", "update", "--bank", f.Bank, "--add", f.Second, "--out", f.Bank);
        Refused(f.Bank, "not resize 256x256, crop 224", "update", "--bank", f.Bank, "--add", f.Second, "--out", outPath, "--resize", "256x256");
        Refused(f.Bank, "backbone resnet18, not wide_resnet50_2", "update", "--bank", f.Bank, "--add", f.Second, "--out", outPath, "--backbone", "wide_resnet50_2");
        Refused(f.Bank, "embedding is Paper", "update", "--bank", f.Bank, "--add", f.Second, "--out", outPath, "--embedding", "concat");
        string empty = f.NewFolder("empty");
        Refused(empty, "no images found", "update", "--bank", f.Bank, "--add", empty, "--out", outPath);
        string junk = f.NewFolder("junk");
        File.WriteAllText(Path.Combine(junk, "a.png"), "not an image");
        Refused(Path.Combine(junk, "a.png"), "not an image", "update", "--bank", f.Bank, "--add", junk, "--out", outPath);
        string corrupt = Path.Combine(dir, "corrupt.pcbank");
        byte[] bytes = (byte[])f.BankBytes.Clone();
        bytes[^100] ^= 0x08;
        File.WriteAllBytes(corrupt, bytes);
        Refused(corrupt, "checksum mismatch", "update", "--bank", corrupt, "--add", f.Second, "--out", outPath);
        Refused("--coreset", "1.5", "update", "--bank", f.Bank, "--add", f.Second, "--out", outPath, "--coreset", "1.5");
        Assert.Equal(f.BankBytes, File.ReadAllBytes(f.Bank));
    }

    [Fact]
    public void HelpNamesTheCommands()
    {
        foreach (var cmd in new[] { new[] { "update" }, ["bank", "list"], ["bank", "rollback"] })
        {
            var h = CliRunner.Run([.. cmd, "--help"]);
            Assert.Equal(0, h.ExitCode);
            Assert.Contains("Exit codes", h.Stdout);
        }
        Assert.Contains("coverage radius", CliRunner.Run("update", "--help").Stdout);
        Assert.Contains("update", CliRunner.Run("--help").Stdout);
    }
}
