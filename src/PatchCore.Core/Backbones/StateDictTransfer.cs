using System.Text;
using System.Text.RegularExpressions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PatchCore.Core.Backbones;

/// <summary>
/// Checks a state_dict (torchvision key names) against a ResNet and copies the stem..layer3 entries into it.
/// Missing keys, unexpected backbone-like keys and shape mismatches are all collected and reported in one
/// exception naming the file; layer4 and fc are never run, so their keys are allowed and ignored.
/// Written here rather than with Module.load_state_dict because that call reports neither shape
/// mismatches nor the file, and cannot skip whole prefixes.
/// </summary>
internal static partial class StateDictTransfer
{
    private static readonly string[] LoadedPrefixes = ["conv1.", "bn1.", "layer1.", "layer2.", "layer3."];
    private static readonly string[] IgnoredPrefixes = ["layer4.", "fc."];
    private const int MaxListed = 25;

    [GeneratedRegex(@"^(conv1|bn1|layer\d+)\.")]
    private static partial Regex BackboneLikeKey();

    /// <summary>True for keys of the part of the network that runs: stem, layer1, layer2, layer3.</summary>
    internal static bool IsLoaded(string key) => LoadedPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal));

    /// <summary>BatchNorm's step counter: irrelevant in eval mode, and absent from some checkpoints.</summary>
    private static bool IsOptional(string key) => key.EndsWith(".num_batches_tracked", StringComparison.Ordinal);

    /// <summary>Validates <paramref name="source"/> against <paramref name="model"/> and copies the stem..layer3 values.</summary>
    internal static void Apply(ResNet model, IReadOnlyDictionary<string, Tensor> source, string file, string backboneName)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var target = model.state_dict();

        var missing = target.Keys.Where(k => IsLoaded(k) && !IsOptional(k) && !source.ContainsKey(k)).ToList();
        var unexpected = source.Keys
            .Where(k => BackboneLikeKey().IsMatch(k) && !IgnoredPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal)))
            .Where(k => !target.ContainsKey(k))
            .OrderBy(k => k, StringComparer.Ordinal).ToList();
        var mismatched = new List<string>();
        foreach (var (key, want) in target)
        {
            if (!IsLoaded(key) || IsOptional(key) || !source.TryGetValue(key, out var have))
                continue;
            if (!have.shape.SequenceEqual(want.shape))
                mismatched.Add($"{key} is {Shape(have.shape)} in the file, {Shape(want.shape)} in {backboneName}");
        }

        if (missing.Count + unexpected.Count + mismatched.Count > 0)
            throw new PatchCoreException(Describe(file, backboneName, missing, unexpected, mismatched));

        foreach (var (key, want) in target)
        {
            if (IsLoaded(key) && !IsOptional(key))
                want.copy_(source[key]);
        }
    }

    private static string Describe(string file, string backboneName, List<string> missing, List<string> unexpected, List<string> mismatched)
    {
        var text = new StringBuilder($"{file}: the weights do not fit torchvision {backboneName} (stem to layer3).");
        Append(text, "missing keys", missing);
        Append(text, "unexpected keys", unexpected);
        Append(text, "shape mismatches", mismatched);
        return text.ToString();
    }

    private static void Append(StringBuilder text, string title, List<string> items)
    {
        if (items.Count == 0)
            return;
        text.Append($" {items.Count} {title}: ").Append(string.Join(", ", items.Take(MaxListed)));
        if (items.Count > MaxListed)
            text.Append($", ... and {items.Count - MaxListed} more");
        text.Append('.');
    }

    private static string Shape(long[] shape) => "[" + string.Join(",", shape) + "]";
}
