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

    [Theory]
    [InlineData("--resize 256 --crop none", "none")]
    [InlineData("--resize 256 --tile 128:32", "128:32")] // tiles: whole image implied; score follows the bank's tiling
    public void EvalAndScoreAgreePerImage(string options, string tile)
    {
        string bank = Path.Combine(_category.Root, "mixed.pcbank");
        string[] geometry = options.Split(' ');
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
        // the settings record the geometry
        var settings = evalJson.RootElement.GetProperty("settings");
        Assert.Equal(("256", "none", tile, "no"), (settings.GetProperty("resize").GetString(), settings.GetProperty("crop").GetString(),
            settings.GetProperty("tile").GetString(), settings.GetProperty("geometry_auto").GetString()));
    }

    [Fact]
    public void GeometryAutoIsChosenFromTheTrainingImagesPrintedAndStored()
    {
        string bank = Path.Combine(_category.Root, "auto.pcbank");
        var build = CliRunner.Run("build", "--train", Path.Combine(_category.Root, "train", "good"), "--out", bank, "--holdout", "0", "--coreset", "200", "--geometry", "auto");
        Assert.True(build.ExitCode == 0, build.Stderr);
        // sizes 256x256, 288x256, 256x320: median aspect 1, median size 256x256 (never upscaled), which differ in aspect
        Assert.Contains("geometry auto: 256x256, crop none", build.Stderr);
        Assert.Contains("differ a lot in aspect", build.Stderr);
        // the bank's metadata (the JSON after the 8-byte magic, the format version and its length) keeps the choice
        byte[] file = File.ReadAllBytes(bank);
        using var meta = JsonDocument.Parse(file.AsMemory(16, BitConverter.ToInt32(file, 12)));
        var g = meta.RootElement.GetProperty("Geometry");
        Assert.Equal((256, 256, JsonValueKind.Null, true), (g.GetProperty("Width").GetInt32(), g.GetProperty("Height").GetInt32(),
            g.GetProperty("Crop").ValueKind, g.GetProperty("Auto").GetBoolean()));
    }

    [Theory]
    [InlineData("--geometry auto --resize 320x160", "--geometry auto chooses the resize and crop itself")]
    [InlineData("--geometry auto --crop none", "leave out --crop none")]
    [InlineData("--geometry square", "Unknown --geometry 'square'")]
    [InlineData("--tile 100", "multiple of 8")]
    [InlineData("--tile 224:224", "smaller than the tile size")]
    [InlineData("--tile 224 --crop 224", "cannot be combined with --crop 224")]
    [InlineData("--resize native --crop 224", "use --crop none")]
    public void BadGeometryOptionsAreRefusedNamingTheProblem(string options, string expected)
    {
        var build = CliRunner.Run(["build", "--train", Path.Combine(_category.Root, "train", "good"), "--out", Path.Combine(_category.Root, "bad.pcbank"), .. options.Split(' ')]);
        Assert.Equal(1, build.ExitCode);
        Assert.Contains(expected, build.Stderr);
        Assert.False(File.Exists(Path.Combine(_category.Root, "bad.pcbank")));
    }

    public void Dispose() => _category.Dispose();
}
