using System.Text.Json;
using PatchCore.Core.Tests;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Cli.Tests;

/// <summary>A bank built once with the real command from samples/bottle/train/good.</summary>
public sealed class SampleBankFixture : IDisposable
{
    public SampleBankFixture()
    {
        Dir = Directory.CreateTempSubdirectory("pc-cli-").FullName;
        Bank = Path.Combine(Dir, "sample.pcbank");
        Build = CliRunner.Run("build", "--train", Path.Combine(TestData.RepoRoot, "samples", "bottle", "train", "good"), "--out", Bank, "--seed", "3");
    }

    public string Dir { get; }
    public string Bank { get; }
    public CliResult Build { get; }
    public string SampleTest => Path.Combine(TestData.RepoRoot, "samples", "bottle", "test");

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}

public sealed class CliTests(SampleBankFixture f, ITestOutputHelper output) : IClassFixture<SampleBankFixture>
{
    [Fact]
    public void BuildWritesABankAndASummary()
    {
        output.WriteLine(f.Build.Stderr);
        Assert.Equal(0, f.Build.ExitCode);
        Assert.True(File.Exists(f.Bank));
        Assert.Contains("17 in the bank, 3 held out", f.Build.Stderr);
        Assert.Contains("thresholds: ng ", f.Build.Stderr);
        Assert.Contains("image score: max (the highest patch distance), chosen by --image-score auto: 3 held-out good images with maps", f.Build.Stderr);
    }

    [Fact]
    public void ScoreJsonGivesOneObjectPerImageAndAnErrorLineForABadOne()
    {
        string bad = Path.Combine(f.Dir, "garbage.png");
        File.WriteAllText(bad, "not an image");
        var r = CliRunner.Run("score", "--bank", f.Bank, f.SampleTest, bad, "--json");
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.Equal(3, r.ExitCode);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        var docs = lines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        var error = Assert.Single(docs, d => d.TryGetProperty("error", out _));
        Assert.Equal(bad, error.GetProperty("path").GetString());
        var scored = docs.Where(d => !d.TryGetProperty("error", out _)).ToArray();
        Assert.Equal(5, scored.Length);
        foreach (var d in scored)
        {
            Assert.True(d.GetProperty("score").GetDouble() > 0);
            Assert.Equal(JsonValueKind.Null, d.GetProperty("heatmap").ValueKind);
            bool anomalous = d.GetProperty("anomalous").GetBoolean();
            string name = Path.GetFileName(d.GetProperty("path").GetString()!);
            // the sample bank separates these five images with its own calibrated threshold
            Assert.Equal(!name.StartsWith("good", StringComparison.Ordinal), anomalous);
        }
    }

    [Fact]
    public void ThresholdOverrideAndHeatmaps()
    {
        string heat = Path.Combine(f.Dir, "heat");
        var r = CliRunner.Run("score", "--bank", f.Bank, Path.Combine(f.SampleTest, "good_000.png"), "--json", "--threshold", "0", "--heatmaps", heat);
        Assert.Equal(0, r.ExitCode);
        var d = JsonDocument.Parse(r.Stdout.Trim()).RootElement;
        Assert.True(d.GetProperty("anomalous").GetBoolean());
        string png = d.GetProperty("heatmap").GetString()!;
        Assert.True(File.Exists(png));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png)[..4]);
    }

    [Fact]
    public void EverySearchGivesTheSameScoresAndAnUnknownOneIsRefused()
    {
        string image = Path.Combine(f.SampleTest, "good_000.png");
        double Score(string search)
        {
            var r = CliRunner.Run("score", "--bank", f.Bank, image, "--json", "--search", search);
            Assert.True(r.ExitCode == 0, $"--search {search}: exit {r.ExitCode}\n{r.Stderr}");
            return JsonDocument.Parse(r.Stdout.Trim()).RootElement.GetProperty("score").GetDouble();
        }
        double faiss = Score("faiss");
        foreach (var search in new[] { "auto", "projected", "torch" })
            Assert.Equal(faiss, Score(search), faiss * 1e-4);
        Assert.InRange(Score("projected-approx"), faiss * (1 - 1e-4), faiss * 1.1);   // a miss can only raise a score

        var bad = CliRunner.Run("score", "--bank", f.Bank, image, "--search", "annoy");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("annoy", bad.Stderr);
    }

    [Fact]
    public void ABadBankFailsWithExitOneAndNamesTheFile()
    {
        string bank = Path.Combine(f.Dir, "not-a-bank.pcbank");
        File.WriteAllText(bank, "hello");
        var r = CliRunner.Run("score", "--bank", bank, f.SampleTest);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(bank, r.Stderr);
        Assert.Contains("not a PatchCore bank", r.Stderr);
    }

    [Fact]
    public void HelpAndUsageErrors()
    {
        foreach (var cmd in new[] { "build", "score", "eval" })
        {
            var h = CliRunner.Run(cmd, "--help");
            Assert.Equal(0, h.ExitCode);
            Assert.Contains("Exit codes", h.Stdout);
        }
        Assert.Contains("--coreset", CliRunner.Run("build", "--help").Stdout);
        var bad = CliRunner.Run("score", "--no-such-option");
        Assert.Equal(2, bad.ExitCode);
        var badValue = CliRunner.Run("build", "--train", f.SampleTest, "--out", Path.Combine(f.Dir, "x.pcbank"), "--coreset", "1.5");
        Assert.Equal(1, badValue.ExitCode);
        Assert.Contains("--coreset", badValue.Stderr);
        Assert.Contains("--coreset-method", CliRunner.Run("build", "--help").Stdout);
        var badMethod = CliRunner.Run("build", "--train", f.SampleTest, "--out", Path.Combine(f.Dir, "x.pcbank"), "--coreset-method", "greedy");
        Assert.Equal(1, badMethod.ExitCode);
        Assert.Contains("Unknown --coreset-method 'greedy'", badMethod.Stderr);
        Assert.Contains("--image-score", CliRunner.Run("eval", "--help").Stdout);
        var badRule = CliRunner.Run("build", "--train", f.SampleTest, "--out", Path.Combine(f.Dir, "x.pcbank"), "--image-score", "mean");
        Assert.Equal(1, badRule.ExitCode);
        Assert.Contains("Unknown --image-score 'mean'", badRule.Stderr);
        var missing = CliRunner.Run("build", "--train", Path.Combine(f.Dir, "nope"), "--out", Path.Combine(f.Dir, "x.pcbank"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("not found", missing.Stderr);
    }

    [DataFact("bottle")]
    public void EvalWritesTheJsonContractAndAReport()
    {
        string json = Path.Combine(f.Dir, "eval.json");
        string html = Path.Combine(f.Dir, "eval.html");
        var r = CliRunner.Run("eval", "--data", TestData.Require("bottle"), "--train-stride", "10", "--coreset", "0.05", "--json", json, "--report", html);
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.Equal(0, r.ExitCode);
        var d = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal("bottle", d.GetProperty("category").GetString());
        // every 10th of 209 training images: 21, of which 3 (10 %, at least 3) are held out to calibrate the thresholds
        Assert.Equal(18, d.GetProperty("n_train").GetInt32());
        Assert.Equal(3, d.GetProperty("n_held_out").GetInt32());
        // the default image score (auto) had too few held-out maps for the rule by position, and says so
        Assert.Equal("max", d.GetProperty("settings").GetProperty("image_score").GetString());
        Assert.StartsWith("3 held-out good images with maps", d.GetProperty("settings").GetProperty("image_score_auto").GetString());
        var thresholds = d.GetProperty("thresholds");
        double ng = thresholds.GetProperty("ng").GetDouble(), review = thresholds.GetProperty("review").GetDouble();
        Assert.InRange(review, 0, ng);
        Assert.True(thresholds.GetProperty("pixel").GetDouble() > 0);
        var verdicts = d.GetProperty("verdicts");
        Assert.Equal(20, new[] { "ok", "review", "ng" }.Sum(v => verdicts.GetProperty("good").GetProperty(v).GetInt32()));
        Assert.Equal(63, new[] { "ok", "review", "ng" }.Sum(v => verdicts.GetProperty("defect").GetProperty(v).GetInt32()));
        Assert.Equal(83, d.GetProperty("n_test").GetInt32());
        Assert.InRange(d.GetProperty("image_auroc").GetDouble(), 0.9, 1.0);
        Assert.Equal(JsonValueKind.Null, d.GetProperty("pixel_auroc").ValueKind);
        Assert.Equal(JsonValueKind.Null, d.GetProperty("pro").ValueKind);
        Assert.Equal(1024, d.GetProperty("embedding_dim").GetInt32());
        foreach (var key in new[] { "features", "coreset", "index", "score_per_image" })
            Assert.True(d.GetProperty("seconds").GetProperty(key).GetDouble() >= 0);
        Assert.Equal(83, d.GetProperty("images").GetArrayLength());
        var first = d.GetProperty("images")[0];
        foreach (var key in new[] { "path", "label", "defect_type", "score", "verdict", "regions" }) Assert.True(first.TryGetProperty(key, out _), key);
        Assert.Contains(first.GetProperty("verdict").GetString(), new[] { "ok", "review", "ng" });
        string report = File.ReadAllText(html);
        Assert.Contains("<svg", report);
        Assert.Contains("data:image/png;base64,", report);
        Assert.Contains("At the calibrated thresholds", report);
    }

    [DataFact("bottle")]
    public void EvalByPositionRecordsTheRuleAndSeparatesDefects()
    {
        string json = Path.Combine(f.Dir, "eval-position.json");
        // every 4th of 209 training images: 53, of which 20 % (11, rounded up) are held out: the position statistics need at least 8
        var r = CliRunner.Run("eval", "--data", TestData.Require("bottle"), "--train-stride", "4", "--holdout", "0.2", "--image-score", "position", "--json", json);
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.Equal(0, r.ExitCode);
        var d = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal("position", d.GetProperty("settings").GetProperty("image_score").GetString());
        Assert.Equal("no", d.GetProperty("settings").GetProperty("image_score_auto").GetString());
        Assert.Equal(11, d.GetProperty("n_held_out").GetInt32());
        Assert.InRange(d.GetProperty("image_auroc").GetDouble(), 0.95, 1.0);
        var thresholds = d.GetProperty("thresholds");
        Assert.InRange(thresholds.GetProperty("review").GetDouble(), 0, thresholds.GetProperty("ng").GetDouble());
    }
}
