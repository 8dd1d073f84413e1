using System.Text.Json;
using PatchCore.Core.Tests;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Cli.Tests;

/// <summary>
/// Whole images of three interleaved sizes (<c>--resize 256 --crop none</c>) through the real commands: eval and score
/// give each image the same score, and the deliberately distinct image keeps its own.
/// </summary>
public sealed class MixedSizeTests(ITestOutputHelper output) : IDisposable
{
    private readonly MixedSizeCategory _category = MixedSizeCategory.Create();

    [Fact]
    public void EvalAndScoreAgreePerImage()
    {
        string bank = Path.Combine(_category.Root, "mixed.pcbank");
        string[] geometry = ["--resize", "256", "--crop", "none"];
        // eval puts every training image into its bank: build the same bank by holding none out
        var build = CliRunner.Run(["build", "--train", Path.Combine(_category.Root, "train", "good"), "--out", bank, "--holdout", "0", .. geometry]);
        Assert.True(build.ExitCode == 0, build.Stderr);
        string json = Path.Combine(_category.Root, "eval.json");
        var eval = CliRunner.Run(["eval", "--data", _category.Root, "--json", json, "--holdout", "0", .. geometry]);
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        var score = CliRunner.Run("score", "--bank", bank, Path.Combine(_category.Root, "test"), "--json");
        Assert.True(score.ExitCode == 0, score.Stderr);

        var fromScore = score.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(d => d.GetProperty("path").GetString()!, d => d.GetProperty("score").GetDouble());
        using var evalJson = JsonDocument.Parse(File.ReadAllText(json));
        var fromEval = evalJson.RootElement.GetProperty("images").EnumerateArray()
            .ToDictionary(i => i.GetProperty("path").GetString()!, i => i.GetProperty("score").GetDouble());
        Assert.Equal(_category.Test.Order(StringComparer.Ordinal), fromScore.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(_category.Test.Order(StringComparer.Ordinal), fromEval.Keys.Order(StringComparer.Ordinal));
        foreach (string path in _category.Test)
        {
            output.WriteLine($"{Path.GetFileName(path)} {_category.SizeOf[path]}: eval {fromEval[path]:0.00000}, score {fromScore[path]:0.00000}");
            Assert.Equal(fromScore[path], fromEval[path], fromScore[path] * 1e-4);
        }
        Assert.Equal(_category.Distinct, fromEval.MaxBy(p => p.Value).Key);
        Assert.Equal(_category.Distinct, fromScore.MaxBy(p => p.Value).Key);
        // masks of three sizes were paired with their own images: pixel metrics exist
        Assert.NotEqual(JsonValueKind.Null, evalJson.RootElement.GetProperty("pixel_auroc").ValueKind);
    }

    public void Dispose() => _category.Dispose();
}
