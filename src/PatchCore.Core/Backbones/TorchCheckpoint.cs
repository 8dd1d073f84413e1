using System.Collections;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace PatchCore.Core.Backbones;

/// <summary>Reads a user's torchvision state_dict: PyTorch <c>.pth</c>/<c>.pt</c> (zip pickle) or <c>.safetensors</c>.</summary>
internal static class TorchCheckpoint
{
    internal static readonly string[] PickleExtensions = [".pth", ".pt"];
    internal const string SafetensorsExtension = ".safetensors";

    internal static bool IsSupported(string path) =>
        PickleExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase) ||
        string.Equals(Path.GetExtension(path), SafetensorsExtension, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The tensors of the file by key, on the CPU. The caller owns them (they also belong to the caller's
    /// dispose scope, if any). A file that cannot be read gives a PatchCoreException naming it.
    /// </summary>
    internal static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path))
            throw new PatchCoreException($"{path}: weights file not found.");
        try
        {
            if (string.Equals(Path.GetExtension(path), SafetensorsExtension, StringComparison.OrdinalIgnoreCase))
                return Safetensors.LoadStateDict(path);
            return FromPickle(path, PyTorchUnpickler.UnpickleStateDict(path));
        }
        catch (PatchCoreException)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new PatchCoreException(
                $"{path}: not a readable state_dict ({e.GetType().Name}: {e.Message}). Save one with torch.save(model.state_dict(), path) or safetensors.", e);
        }
    }

    private static Dictionary<string, Tensor> FromPickle(string path, Hashtable table)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is string key && entry.Value is Tensor tensor)
                result[key] = tensor;
        }
        if (result.Count == 0)
            throw new PatchCoreException($"{path}: holds no tensors; expected a state_dict saved with torch.save(model.state_dict(), path).");
        return result;
    }
}
