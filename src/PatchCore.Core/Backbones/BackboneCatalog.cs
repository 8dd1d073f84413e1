using TorchSharp;
using TorchSharp.Modules;

namespace PatchCore.Core.Backbones;

/// <summary>The backbones known by name (torchvision 0.107.0 architectures).</summary>
internal static class BackboneCatalog
{
    public const string DefaultName = "resnet18";

    private static readonly BackboneArchitecture[] Known =
    [
        new("resnet18", 128, 256, HasPackagedWeights: true, ChannelsLast: true),
        new("resnet50", 512, 1024, HasPackagedWeights: false, ChannelsLast: false),
        new("wide_resnet50_2", 512, 1024, HasPackagedWeights: false, ChannelsLast: false),
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
