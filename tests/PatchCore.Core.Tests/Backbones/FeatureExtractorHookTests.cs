using PatchCore.Core.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace PatchCore.Core.Tests.Backbones;

public class FeatureExtractorHookTests
{
    /// <summary>Counts forwards of the named top-level children of a ResNet through their own hooks.</summary>
    private sealed class StageProbe : IDisposable
    {
        private readonly List<Action> _removers = [];
        public Dictionary<string, int> Calls { get; } = [];

        public StageProbe(ResNet model, params string[] names)
        {
            foreach (var (name, module) in model.named_children().Where(c => names.Contains(c.name)))
            {
                var typed = (nn.Module<Tensor, Tensor>)module;
                Calls[name] = 0;
                var handle = typed.register_forward_hook((_, _, _) => { Calls[name]++; return null!; });
                _removers.Add(handle.remove);
            }
            Assert.Equal(names.Length, Calls.Count);
        }

        public void Dispose() => _removers.ForEach(r => r());
    }

    [Fact]
    public void HooksFireOncePerForwardOnTheLastBlocksOfLayer2AndLayer3AndLayer4NeverRuns()
    {
        using var model = torchvision.models.resnet18();
        using var probe = new StageProbe(model, "layer2", "layer3", "layer4", "avgpool", "fc");
        var extractor = FeatureExtractor.Wrap("resnet18", model, ownsModel: false);
        var fired = new List<string>();
        extractor.HookFired += fired.Add;
        using var scope = NewDisposeScope();
        var batch = randn(2, 3, 64, 64);

        extractor.Extract(batch);
        extractor.Extract(batch);

        Assert.Equal(["layer2.1", "layer3.1", "layer2.1", "layer3.1"], fired);
        Assert.Equal(2, probe.Calls["layer2"]);
        Assert.Equal(2, probe.Calls["layer3"]);
        Assert.Equal(0, probe.Calls["layer4"]);
        Assert.Equal(0, probe.Calls["avgpool"]);
        Assert.Equal(0, probe.Calls["fc"]);

        extractor.Dispose();
        extractor.Dispose(); // idempotent
        using (no_grad())
            model.call(batch); // a full forward of the still-alive module: layer2/3 run, our hooks are gone

        Assert.Equal(4, fired.Count);
        Assert.Equal(1, probe.Calls["layer4"]);
        Assert.Throws<ObjectDisposedException>(() => extractor.Extract(batch));
    }

    [Fact]
    public void ExtractReturnsTensorsOfTheCallersScopeWithTheLayerShapes()
    {
        using var extractor = FeatureExtractor.Wrap("resnet18", torchvision.models.resnet18(), ownsModel: true);
        Tensor layer2, layer3;
        using (var scope = NewDisposeScope())
        {
            (layer2, layer3) = extractor.Extract(randn(3, 3, 96, 64));
            Assert.Equal([3L, 128, 12, 8], layer2.shape);
            Assert.Equal([3L, 256, 6, 4], layer3.shape);
            Assert.True(scope.Contains(layer2));
            Assert.True(scope.Contains(layer3));
            Assert.True(float.IsFinite(layer3.sum().item<float>()));
        }
        Assert.True(layer2.IsInvalid);
        Assert.True(layer3.IsInvalid);
    }

    [Fact]
    public void RepeatedExtractionsInScopesLeaveNoLiveTensorsBehind()
    {
        using var extractor = FeatureExtractor.Wrap("resnet18", torchvision.models.resnet18(), ownsModel: true);
        using (var warmUp = NewDisposeScope())
            extractor.Extract(randn(1, 3, 64, 64));
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++)
        {
            using var scope = NewDisposeScope();
            var (layer2, layer3) = extractor.Extract(randn(2, 3, 64, 64));
            Assert.True(DisposeScopeManager.Statistics.ThreadTotalLiveCount > before);
        }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void ExtractGivesTheSameFeaturesAsTheModulesRunByHand()
    {
        using var model = torchvision.models.resnet18();
        using var extractor = FeatureExtractor.Wrap("resnet18", model, ownsModel: false);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batch = randn(1, 3, 64, 64);
        var (layer2, layer3) = extractor.Extract(batch);

        var stages = model.named_children().ToDictionary(c => c.name, c => (nn.Module<Tensor, Tensor>)c.module);
        var x = batch;
        foreach (var name in new[] { "conv1", "bn1", "relu", "maxpool", "layer1", "layer2" })
            x = stages[name].forward(x);
        var expected2 = x.clone();
        var expected3 = stages["layer3"].forward(x);

        Assert.True(layer2.allclose(expected2, rtol: 0, atol: 1e-5));
        Assert.True(layer3.allclose(expected3, rtol: 0, atol: 1e-5));
        // resnet18 runs channels-last (NHWC storage: the channel stride is 1), the hand-run modules in NCHW
        Assert.Equal(1, layer2.stride(1));
        Assert.Equal(1, layer3.stride(1));
        Assert.NotEqual(1, expected2.stride(1));
    }

    [Fact]
    public void BadBatchesAreRefusedWithAClearError()
    {
        using var extractor = FeatureExtractor.Wrap("resnet18", torchvision.models.resnet18(), ownsModel: true);
        using var scope = NewDisposeScope();
        var e1 = Assert.Throws<PatchCoreException>(() => extractor.Extract(randn(3, 64, 64)));
        Assert.Contains("[B, 3, H, W]", e1.Message);
        var e2 = Assert.Throws<PatchCoreException>(() => extractor.Extract(randn(1, 3, 64, 64, dtype: ScalarType.Float64)));
        Assert.Contains("float32", e2.Message);
    }

    [Fact]
    public void WiderBackbonesGiveTheirChannelCounts()
    {
        foreach (var name in new[] { "resnet50", "wide_resnet50_2" })
        {
            var architecture = BackboneCatalog.Get(name);
            using var extractor = FeatureExtractor.Wrap(name, architecture.Build(), ownsModel: true);
            using var scope = NewDisposeScope();
            var (layer2, layer3) = extractor.Extract(randn(1, 3, 32, 32));
            Assert.Equal(512, extractor.Layer2Channels);
            Assert.Equal(1024, extractor.Layer3Channels);
            Assert.Equal([1L, 512, 4, 4], layer2.shape);
            Assert.Equal([1L, 1024, 2, 2], layer3.shape);
        }
    }

    [Fact]
    public void UnknownBackboneNamesListTheKnownOnes()
    {
        var e = Assert.Throws<PatchCoreException>(() => FeatureExtractor.Create("vgg16"));
        Assert.Contains("vgg16", e.Message);
        foreach (var name in BackboneCatalog.Names)
            Assert.Contains(name, e.Message);
        Assert.Equal("wide_resnet50_2", BackboneCatalog.Get(" Wide_ResNet50_2 ").Name);
    }

    [Fact]
    public void BackbonesWithoutPackagedWeightsAskForAWeightsFile()
    {
        var e = Assert.Throws<PatchCoreException>(() => FeatureExtractor.Create("resnet50"));
        Assert.Contains("--weights", e.Message);
    }
}
