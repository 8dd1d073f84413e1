using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using PatchCore.Core.Backbones;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PatchCore.Core.Tests.Backbones;

/// <summary>The packaged weights loaded into torchvision's resnet18 against ONNX Runtime running the same file.</summary>
public class OnnxParityTests(ITestOutputHelper output)
{
    private const int Side = 224;
    private const string Layer2Output = "ReLU315_Output_0";
    private const string Layer3Output = "ReLU347_Output_0";

    /// <summary>The packaged graph with the last ReLUs of layer2 and layer3 appended as graph outputs.</summary>
    private static byte[] ModelWithIntermediateOutputs()
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(OnnxResNet18Weights.DefaultPath));
        model.Graph.Output.Add(FloatOutput(Layer2Output, 1, 128, 28, 28));
        model.Graph.Output.Add(FloatOutput(Layer3Output, 1, 256, 14, 14));
        return Google.Protobuf.MessageExtensions.ToByteArray(model);
    }

    private static ValueInfoProto FloatOutput(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims)
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>Decode, resize to 224x224, planar BGR minus the per-channel means (Preprocessing.PackagedResNet18).</summary>
    private static float[] PackagedInput(string file)
    {
        using var image = Image.Load<Rgb24>(file);
        image.Mutate(x => x.Resize(Side, Side));
        var mean = Preprocessing.PackagedResNet18.Mean; // B, G, R
        var data = new float[3 * Side * Side];
        for (int y = 0; y < Side; y++)
        {
            for (int x = 0; x < Side; x++)
            {
                var p = image[x, y];
                int at = y * Side + x;
                data[at] = p.B - mean[0];
                data[Side * Side + at] = p.G - mean[1];
                data[2 * Side * Side + at] = p.R - mean[2];
            }
        }
        return data;
    }

    [DataFact("bottle")]
    public void Layer2AndLayer3MatchOnnxRuntime()
    {
        string file = TestData.Images("bottle", Path.Combine("test", "broken_large"))[0];
        var input = PackagedInput(file);

        float[] ortLayer2, ortLayer3;
        using (var session = new InferenceSession(ModelWithIntermediateOutputs()))
        {
            var feed = new[] { NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), new DenseTensor<float>(input, [1, 3, Side, Side])) };
            using var results = session.Run(feed, [Layer2Output, Layer3Output]);
            ortLayer2 = results.Single(r => r.Name == Layer2Output).AsTensor<float>().ToArray();
            ortLayer3 = results.Single(r => r.Name == Layer3Output).AsTensor<float>().ToArray();
        }

        using var extractor = FeatureExtractor.Create();
        using var scope = NewDisposeScope();
        var (layer2, layer3) = extractor.Extract(tensor(input, [1, 3, Side, Side]));

        Assert.Equal([1L, 128, 28, 28], layer2.shape);
        Assert.Equal([1L, 256, 14, 14], layer3.shape);
        float diff2 = (layer2 - tensor(ortLayer2, layer2.shape)).abs().max().item<float>();
        float diff3 = (layer3 - tensor(ortLayer3, layer3.shape)).abs().max().item<float>();
        output.WriteLine($"{Path.GetFileName(file)}: max abs difference layer2 {diff2:G3}, layer3 {diff3:G3}");
        Assert.True(diff2 < 1e-3f, $"layer2 max abs difference {diff2}");
        Assert.True(diff3 < 1e-3f, $"layer3 max abs difference {diff3}");
        Assert.True(layer3.abs().max().item<float>() > 1f, "features are not trivially small");
    }
}
