using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace PatchCore.Core.Backbones;

/// <summary>One ONNX initializer and the torchvision state_dict key it becomes.</summary>
internal sealed record OnnxMappingEntry(string NodeName, string InitializerName, string TorchName, IReadOnlyList<long> Shape);
