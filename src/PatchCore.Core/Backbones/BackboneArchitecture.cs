using TorchSharp;
using TorchSharp.Modules;

namespace PatchCore.Core.Backbones;

/// <summary>
/// One ResNet architecture the feature extractor can run: its name, the channel counts of the
/// layer2 and layer3 outputs PatchCore takes, and whether a pretrained weight file ships with the tool.
/// <see cref="ChannelsLast"/>: whether the forward runs its activations channels-last (NHWC), so that oneDNN takes its
/// NHWC convolution kernels: about 20 % faster for resnet18 on this project's CPUs, same results to float rounding. Off for
/// the bottleneck ResNets, where libtorch 2.10 stopped the process with a divide error (SIGFPE) on channels-last input.
/// </summary>
internal sealed record BackboneArchitecture(string Name, int Layer2Channels, int Layer3Channels, bool HasPackagedWeights, bool ChannelsLast)
{
    /// <summary>Builds the torchvision module with its default random initialisation; nothing is downloaded.</summary>
    internal ResNet Build() => Name switch
    {
        "resnet18" => torchvision.models.resnet18(),
        "resnet50" => torchvision.models.resnet50(),
        "wide_resnet50_2" => torchvision.models.wide_resnet50_2(),
        _ => throw new PatchCoreException($"Backbone '{Name}' has no builder."),
    };
}
