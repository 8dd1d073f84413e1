using System.Security.Cryptography;
using System.Text.RegularExpressions;
using PatchCore.Core.Backbones;
using Xunit;

namespace PatchCore.Core.Tests.Backbones;

public partial class OnnxMappingTests
{
    private const string MappingFile = "resnet18-onnx-mapping.txt";

    // "Convolution249   Parameter91   -> conv1.weight   [64,3,7,7] s2 pads[3,3,2,2]; BatchNormalization251 P96/P97/C98/C99 -> bn1.{weight,bias,running_mean,running_var}"
    [GeneratedRegex(@"^(?<conv>\S+)\s+(?<w>\S+)\s+->\s+(?<key>\S+)\s+\[(?<shape>[\d,]+)\][^;]*;\s*(?<bn>\S+)\s+(?<bnInputs>\S+)\s+->\s+(?<prefix>\S+)\.\{(?<fields>[^}]+)\}\s*$")]
    private static partial Regex MappingLine();

    private static List<(string Node, string Initializer, string Torch, long[]? Shape)> ReadReference()
    {
        var rows = new List<(string, string, string, long[]?)>();
        foreach (var line in File.ReadLines(SharedReference.Path(MappingFile)).Where(l => l.Trim().Length > 0))
        {
            var m = MappingLine().Match(line.Trim());
            Assert.True(m.Success, $"Unparsed reference line: {line}");
            rows.Add((m.Groups["conv"].Value, m.Groups["w"].Value, m.Groups["key"].Value,
                m.Groups["shape"].Value.Split(',').Select(long.Parse).ToArray()));
            var inputs = m.Groups["bnInputs"].Value.Split('/');
            var fields = m.Groups["fields"].Value.Split(',');
            Assert.Equal(fields.Length, inputs.Length);
            for (int i = 0; i < fields.Length; i++)
                rows.Add((m.Groups["bn"].Value, inputs[i], $"{m.Groups["prefix"].Value}.{fields[i]}", null));
        }
        return rows;
    }

    [ReferenceFact(MappingFile)]
    public void DerivedMappingEqualsTheReferenceTable()
    {
        var reference = ReadReference();
        var derived = OnnxResNet18Weights.DeriveMapping(OnnxResNet18Weights.DefaultPath);

        Assert.Equal(110, reference.Count);
        Assert.Equal(reference.Count, derived.Count);
        var byTorchName = derived.ToDictionary(e => e.TorchName);
        foreach (var (node, initializer, torch, shape) in reference)
        {
            Assert.True(byTorchName.TryGetValue(torch, out var entry), $"{torch} not derived");
            Assert.Equal(node, entry!.NodeName);
            Assert.Equal(initializer, entry.InitializerName);
            if (shape is not null)
                Assert.Equal(shape, entry.Shape);
        }
    }

    [Fact]
    public void BnTensorsHaveTheChannelCountOfTheirConv()
    {
        var derived = OnnxResNet18Weights.DeriveMapping(OnnxResNet18Weights.DefaultPath);
        var byName = derived.ToDictionary(e => e.TorchName);
        foreach (var conv in derived.Where(e => e.Shape.Count == 4))
        {
            string bnPrefix = conv.TorchName switch
            {
                "conv1.weight" => "bn1",
                var k when k.Contains(".downsample.0.") => k.Replace(".downsample.0.weight", ".downsample.1"),
                var k => k.Replace(".conv", ".bn").Replace(".weight", ""),
            };
            foreach (var field in new[] { "weight", "bias", "running_mean", "running_var" })
                Assert.Equal([conv.Shape[0]], byName[$"{bnPrefix}.{field}"].Shape);
        }
    }

    [Fact]
    public void DefaultResNet18UsesThePackagedWeightsAndTheirPreprocessing()
    {
        using var extractor = FeatureExtractor.Create();
        using var stream = File.OpenRead(OnnxResNet18Weights.DefaultPath);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(stream)), extractor.WeightsId);
        Assert.Equal("resnet18", extractor.BackboneName);
        Assert.Equal(Preprocessing.PackagedResNet18, extractor.Preprocessing);
        Assert.Equal((128, 256), (extractor.Layer2Channels, extractor.Layer3Channels));
        Assert.Contains("ResNet18.onnx", extractor.WeightsDescription);

        // layer4 and fc never run: their random weights are released; the stem..layer3 keep every loaded value.
        var sizes = extractor.Model.named_parameters().Select(p => (p.name, p.parameter.numel()))
            .Concat(extractor.Model.named_buffers().Select(b => (b.name, b.buffer.numel()))).ToDictionary(p => p.name, p => p.Item2);
        Assert.All(sizes.Where(p => p.Key.StartsWith("layer4.") || p.Key.StartsWith("fc.")), p => Assert.Equal(0, p.Value));
        Assert.Equal(2_782_784, sizes.Where(p => StateDictTransfer.IsLoaded(p.Key) && !p.Key.EndsWith("num_batches_tracked")).Sum(p => p.Value)
            - sizes.Where(p => p.Key.Contains("running_")).Sum(p => p.Value));
    }
}
