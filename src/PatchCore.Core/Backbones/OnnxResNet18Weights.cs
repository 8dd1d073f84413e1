using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace PatchCore.Core.Backbones;

/// <summary>
/// The ImageNet ResNet18 that ships as <c>models/ResNet18.onnx</c> (Microsoft's CNTK-trained model from the
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 package). Its initializers are mapped onto torchvision names by
/// walking the graph: each Conv is paired with the BatchNormalization that consumes its output; the 7x7 conv
/// is the stem, the 1x1 convs in graph order are the downsample convs of layer2, layer3 and layer4, and the
/// 3x3 convs in graph order are the block convs of blocks [2, 2, 2, 3]. Only stem..layer3 is loaded.
/// CNTK pads its stride-2 convs and max pool asymmetrically; torchvision's symmetric padding gives the same
/// result while every stage input has an even side, i.e. for image sides divisible by 16 up to layer3.
/// </summary>
internal static class OnnxResNet18Weights
{
    private static readonly int[] BlocksPerLayer = [2, 2, 2, 3];
    private static readonly string[] BatchNormFields = ["weight", "bias", "running_mean", "running_var"];

    /// <summary>Where the build copies the packaged model, beside the running assembly.</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "models", "ResNet18.onnx");

    /// <summary>The mapping derived from the graph of the ONNX file (all 22 convs and their BNs, layer4 included).</summary>
    public static IReadOnlyList<OnnxMappingEntry> DeriveMapping(string onnxPath) =>
        DeriveMapping(Parse(onnxPath), onnxPath);

    internal static ModelProto Parse(string onnxPath)
    {
        if (!File.Exists(onnxPath))
            throw new PatchCoreException(
                $"{onnxPath}: packaged ResNet18 weights not found (the build copies them from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 into models/).");
        try
        {
            using var stream = File.OpenRead(onnxPath);
            return ModelProto.Parser.ParseFrom(stream);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or IOException)
        {
            throw new PatchCoreException($"{onnxPath}: not a readable ONNX model: {e.Message}", e);
        }
    }

    internal static IReadOnlyList<OnnxMappingEntry> DeriveMapping(ModelProto model, string file)
    {
        var graph = model.Graph ?? throw new PatchCoreException($"{file}: the ONNX model has no graph.");
        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var consumers = graph.Node
            .SelectMany(n => n.Input.Select(i => (Input: i, Node: n)))
            .ToLookup(p => p.Input, p => p.Node, StringComparer.Ordinal);

        var stem = new List<(NodeProto Conv, NodeProto Bn)>();
        var pointwise = new List<(NodeProto Conv, NodeProto Bn)>();
        var block = new List<(NodeProto Conv, NodeProto Bn)>();
        foreach (var conv in graph.Node.Where(n => n.OpType == "Conv"))
        {
            if (conv.Input.Count < 2 || !initializers.TryGetValue(conv.Input[1], out var weight) || weight.Dims.Count != 4)
                throw new PatchCoreException($"{file}: Conv node '{conv.Name}' has no 4-d weight initializer.");
            var bns = consumers[conv.Output[0]].Where(n => n.OpType == "BatchNormalization").ToList();
            if (bns.Count != 1 || bns[0].Input.Count < 5)
                throw new PatchCoreException($"{file}: Conv node '{conv.Name}' is not followed by exactly one BatchNormalization.");
            var kernel = (weight.Dims[2], weight.Dims[3]);
            var list = kernel switch
            {
                (7, 7) => stem,
                (1, 1) => pointwise,
                (3, 3) => block,
                _ => throw new PatchCoreException($"{file}: Conv node '{conv.Name}' has an unexpected {kernel.Item1}x{kernel.Item2} kernel."),
            };
            list.Add((conv, bns[0]));
        }

        int blockConvs = BlocksPerLayer.Sum() * 2;
        if (stem.Count != 1 || pointwise.Count != 3 || block.Count != blockConvs)
            throw new PatchCoreException(
                $"{file}: not the packaged ResNet18 layout: {stem.Count} 7x7, {pointwise.Count} 1x1 and {block.Count} 3x3 convs (expected 1, 3 and {blockConvs}).");

        var named = new List<(NodeProto Conv, NodeProto Bn, string ConvKey, string BnPrefix)>
        {
            (stem[0].Conv, stem[0].Bn, "conv1.weight", "bn1"),
        };
        for (int i = 0; i < pointwise.Count; i++)
            named.Add((pointwise[i].Conv, pointwise[i].Bn, $"layer{i + 2}.0.downsample.0.weight", $"layer{i + 2}.0.downsample.1"));
        int index = 0;
        for (int layer = 0; layer < BlocksPerLayer.Length; layer++)
        {
            for (int b = 0; b < BlocksPerLayer[layer]; b++)
            {
                for (int c = 1; c <= 2; c++)
                {
                    var (conv, bn) = block[index++];
                    named.Add((conv, bn, $"layer{layer + 1}.{b}.conv{c}.weight", $"layer{layer + 1}.{b}.bn{c}"));
                }
            }
        }

        // Emit in graph order of the convs, each followed by its BN's four tensors.
        var order = graph.Node.Select((n, i) => (n, i)).Where(p => p.n.OpType == "Conv")
            .ToDictionary(p => p.n.Output[0], p => p.i, StringComparer.Ordinal);
        var entries = new List<OnnxMappingEntry>();
        foreach (var (conv, bn, convKey, bnPrefix) in named.OrderBy(n => order[n.Conv.Output[0]]))
        {
            entries.Add(Entry(conv, conv.Input[1], convKey, initializers, file));
            for (int f = 0; f < BatchNormFields.Length; f++)
                entries.Add(Entry(bn, bn.Input[f + 1], $"{bnPrefix}.{BatchNormFields[f]}", initializers, file));
        }
        return entries;
    }

    /// <summary>
    /// The stem..layer3 tensors of the ONNX file under torchvision names, on the CPU, owned by the caller
    /// (and by its dispose scope, if any).
    /// </summary>
    internal static Dictionary<string, Tensor> ReadStateDict(string onnxPath)
    {
        var model = Parse(onnxPath);
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var entry in DeriveMapping(model, onnxPath).Where(e => StateDictTransfer.IsLoaded(e.TorchName)))
            result[entry.TorchName] = ToTensor(initializers[entry.InitializerName], onnxPath);
        return result;
    }

    private static OnnxMappingEntry Entry(NodeProto node, string initializer, string torchName,
        Dictionary<string, TensorProto> initializers, string file)
    {
        if (!initializers.TryGetValue(initializer, out var tensor))
            throw new PatchCoreException($"{file}: node '{node.Name}' input '{initializer}' is not an initializer.");
        return new OnnxMappingEntry(node.Name, initializer, torchName, tensor.Dims.ToArray());
    }

    private static Tensor ToTensor(TensorProto proto, string file)
    {
        if (proto.DataType != (int)TensorProto.Types.DataType.Float)
            throw new PatchCoreException($"{file}: initializer '{proto.Name}' is not float32 (data type {proto.DataType}).");
        long count = proto.Dims.Aggregate(1L, (a, d) => a * d);
        float[] values;
        if (!proto.RawData.IsEmpty)
        {
            if (!BitConverter.IsLittleEndian)
                throw new PatchCoreException($"{file}: raw ONNX data is little endian; this machine is not.");
            values = MemoryMarshal.Cast<byte, float>(proto.RawData.Span).ToArray();
        }
        else
        {
            values = proto.FloatData.ToArray();
        }
        if (values.LongLength != count)
            throw new PatchCoreException($"{file}: initializer '{proto.Name}' holds {values.LongLength} values for shape [{string.Join(",", proto.Dims)}].");
        return tensor(values, proto.Dims.ToArray());
    }
}
