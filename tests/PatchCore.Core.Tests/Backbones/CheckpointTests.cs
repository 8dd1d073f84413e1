using System.Security.Cryptography;
using PatchCore.Core.Backbones;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit;
using static TorchSharp.torch;

namespace PatchCore.Core.Tests.Backbones;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("patchcore-backbone-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A random torchvision resnet18 whose BN affine parameters and running stats are random too.</summary>
    private static TorchSharp.Modules.ResNet RandomResNet18()
    {
        var model = torchvision.models.resnet18();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (key, value) in model.state_dict())
        {
            if (key.EndsWith("running_var", StringComparison.Ordinal))
                value.copy_(rand(value.shape) + 0.5f);
            else if (key.EndsWith("running_mean", StringComparison.Ordinal) || key.Contains("bn") && key.EndsWith("bias", StringComparison.Ordinal))
                value.copy_(randn(value.shape) * 0.1f);
        }
        return model;
    }

    private static string Sha256(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    [Theory]
    [InlineData("weights.safetensors")]
    [InlineData("weights.pth")]
    public void SavedStateDictLoadsAndGivesTheSourceFeatures(string name)
    {
        string path = Path.Combine(_dir, name);
        using var source = RandomResNet18();
        if (name.EndsWith(".pth", StringComparison.Ordinal))
            source.save_py(path);
        else
            source.save_safetensors(path);

        using var loaded = FeatureExtractor.Create("resnet18", path);
        using var reference = FeatureExtractor.Wrap("resnet18", source, ownsModel: false);
        using var scope = NewDisposeScope();
        var batch = randn(2, 3, 64, 64);
        var (_, expected) = reference.Extract(batch);
        var (_, actual) = loaded.Extract(batch);

        Assert.True(actual.allclose(expected, rtol: 0, atol: 1e-5), $"max abs difference {(actual - expected).abs().max().item<float>()}");
        Assert.Equal(Preprocessing.TorchvisionImageNet, loaded.Preprocessing);
        Assert.Equal(Sha256(path), loaded.WeightsId);
        Assert.Contains(path, loaded.WeightsDescription);
    }

    [Fact]
    public void MissingKeysUnexpectedKeysAndWrongShapesAreListedInOneErrorNamingTheFile()
    {
        using var source = RandomResNet18();
        using var scope = NewDisposeScope();
        var state = new Dictionary<string, Tensor>(source.state_dict());
        Assert.True(state.Remove("layer2.0.conv1.weight"));
        state["layer3.1.bn2.weight"] = zeros(10);
        state["layer3.7.conv1.weight"] = zeros(3);
        state["layer4.9.conv1.weight"] = zeros(3); // layer4 and fc keys are allowed and ignored
        state["fc.weight"] = zeros(7, 7);

        string safetensors = Path.Combine(_dir, "bad.safetensors");
        Safetensors.SaveStateDict(safetensors, state);
        string pth = Path.Combine(_dir, "bad.pth");
        PyTorchPickler.PickleStateDict(pth, state);

        foreach (var path in new[] { safetensors, pth })
        {
            var e = Assert.Throws<PatchCoreException>(() => FeatureExtractor.Create("resnet18", path));
            Assert.Contains(path, e.Message);
            Assert.Contains("missing keys: layer2.0.conv1.weight", e.Message);
            Assert.Contains("unexpected keys: layer3.7.conv1.weight", e.Message);
            Assert.Contains("layer3.1.bn2.weight is [10] in the file, [256] in resnet18", e.Message);
            Assert.DoesNotContain("layer4", e.Message);
            Assert.DoesNotContain("fc.weight", e.Message);
        }
    }

    [Fact]
    public void ACheckpointOfAnotherArchitectureIsRefused()
    {
        string path = Path.Combine(_dir, "resnet18.safetensors");
        using (var source = torchvision.models.resnet18())
            source.save_safetensors(path);
        var e = Assert.Throws<PatchCoreException>(() => FeatureExtractor.Create("resnet50", path));
        Assert.Contains(path, e.Message);
        Assert.Contains("shape mismatches", e.Message);
        Assert.Contains("missing keys", e.Message);
    }

    [Fact]
    public void MissingAndUnreadableFilesGiveClearErrors()
    {
        string missing = Path.Combine(_dir, "nope.pth");
        var e1 = Assert.Throws<PatchCoreException>(() => FeatureExtractor.Create("resnet18", missing));
        Assert.Contains(missing, e1.Message);
        Assert.Contains("not found", e1.Message);

        string garbage = Path.Combine(_dir, "garbage.pth");
        File.WriteAllText(garbage, "not a checkpoint");
        var e2 = Assert.Throws<PatchCoreException>(() => FeatureExtractor.Create("resnet18", garbage));
        Assert.Contains(garbage, e2.Message);

        string other = Path.Combine(_dir, "weights.h5");
        File.WriteAllText(other, "x");
        var e3 = Assert.Throws<PatchCoreException>(() => FeatureExtractor.Create("resnet18", other));
        Assert.Contains(".safetensors", e3.Message);
    }

    [Fact]
    public void WeightsIdIsTheSha256AndFollowsChangesToTheFile()
    {
        string path = Path.Combine(_dir, "w.bin");
        File.WriteAllBytes(path, [1, 2, 3]);
        string first = WeightsIdentity.Of(path);
        Assert.Equal(Sha256(path), first);
        Assert.Equal(first, WeightsIdentity.Of(path));

        File.WriteAllBytes(path, [1, 2, 3, 4]);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        string second = WeightsIdentity.Of(path);
        Assert.NotEqual(first, second);
        Assert.Equal(Sha256(path), second);
    }
}
