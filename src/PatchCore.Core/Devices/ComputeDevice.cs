using TorchSharp;

namespace PatchCore.Core.Devices;

/// <summary>Chooses the torch device and reports how much memory work on it may use.</summary>
public static class ComputeDevice
{
    public static DeviceKind Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => DeviceKind.Auto,
        "cpu" => DeviceKind.Cpu,
        "cuda" or "gpu" => DeviceKind.Cuda,
        _ => throw new PatchCoreException($"Unknown device '{text}': expected auto, cpu or cuda."),
    };

    internal static torch.Device Resolve(DeviceKind kind)
    {
        switch (kind)
        {
            case DeviceKind.Cpu:
                return torch.CPU;
            case DeviceKind.Cuda:
                if (!torch.cuda.is_available())
                    throw new PatchCoreException("Device 'cuda' was asked for, but CUDA is not available: this build uses the CPU libtorch (see README, GPU build) or no GPU is present.");
                return torch.CUDA;
            default:
                return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        }
    }

    /// <summary>
    /// Bytes that one batch or chunk of work may use on the device: a quarter of the available RAM on CPU
    /// (so several buffers and the bank fit beside it), half of the total GPU memory on CUDA.
    /// </summary>
    internal static long DefaultWorkBudgetBytes(torch.Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            // TorchSharp exposes no free-memory query; assume a conservative 4 GiB share.
            return 4L << 30;
        }
        long available = AvailableRamBytes();
        return Math.Clamp(available / 4, 256L << 20, 8L << 30);
    }

    internal static long AvailableRamBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }
}
