using TorchSharp;
using TorchSharp.Modules;

namespace PatchCore.Core.Backbones;

/// <summary>
/// One ResNet architecture the feature extractor can run: its name, the channel counts of the
/// layer2 and layer3 outputs PatchCore takes, and whether a pretrained weight file ships with the tool.
/// </summary>
public sealed record BackboneArchitecture(string Name, int Layer2Channels, int Layer3Channels, bool HasPackagedWeights)
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

/// <summary>The backbones known by name (torchvision 0.107.0 architectures).</summary>
public static class BackboneCatalog
{
    public const string DefaultName = "resnet18";

    private static readonly BackboneArchitecture[] Known =
    [
        new("resnet18", 128, 256, HasPackagedWeights: true),
        new("resnet50", 512, 1024, HasPackagedWeights: false),
        new("wide_resnet50_2", 512, 1024, HasPackagedWeights: false),
    ];

    public static IReadOnlyList<string> Names { get; } = Known.Select(a => a.Name).ToArray();

    /// <summary>The architecture of that name (case-insensitive); an unknown name lists the known ones.</summary>
    public static BackboneArchitecture Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.Trim();
        return Known.FirstOrDefault(a => string.Equals(a.Name, key, StringComparison.OrdinalIgnoreCase))
            ?? throw new PatchCoreException($"Unknown backbone '{name}': known backbones are {string.Join(", ", Names)}.");
    }
}
