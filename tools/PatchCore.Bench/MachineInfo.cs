using System.Globalization;
using System.Runtime.InteropServices;
using PatchCore.Core.Devices;
using PatchCore.Core.MemoryBank;
using TorchSharp;
using PatchCore.Core.Search;
using PatchCore.Core.Native;

namespace PatchCore.Bench;

/// <summary>The machine the figures come from: printed at the top of every run.</summary>
internal static class MachineInfo
{
    public static void Print(BenchSettings settings)
    {
        Report.Heading($"PatchCore benchmark ({(settings.Quick ? "quick" : "full")} run)");
        var device = ComputeDevice.Resolve(DeviceKind.Auto);
        var rows = new List<(string, string)>
        {
            ("date", DateTimeOffset.Now.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture)),
            ("cpu", CpuModel()),
            ("cores (logical, visible to .NET)", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)),
            ("memory total / available", $"{Report.MiB(MemInfo("MemTotal:"))} / {Report.MiB(MemInfo("MemAvailable:"))} MiB"),
            ("load average 1/5/15 min at start", LoadAverage()),
            ("torch threads (intra-op)", torch.get_num_threads().ToString(CultureInfo.InvariantCulture)),
            ("FAISS threads (OpenMP)", FaissIndex.ThreadCount.ToString(CultureInfo.InvariantCulture)),
            ("torch device", device.ToString()),
            ("C allocator (glibc)", NativeHeap.LargeBlocksKept
                ? $"mmap threshold {NativeHeap.MmapThresholdBytes >> 20} MiB, trim threshold {NativeHeap.TrimThresholdBytes >> 20} MiB (NativeHeap.KeepLargeBlocks, as the hosts)" : "its own thresholds, or the environment's"),
            ("runtime", $".NET {Environment.Version}, TorchSharp {typeof(torch).Assembly.GetName().Version}, {RuntimeInformation.OSDescription}"),
            ("data", $"{settings.CategoryDir}"),
            ("sections", string.Join(", ", settings.Sections)),
        };
        foreach (var (key, value) in rows)
            Report.Line($"{key,-34} {value}");
    }

    private static string CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int colon and >= 0)
                    return line[(colon + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static long MemInfo(string key)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024; // kB
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return -1;
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException) { return "n/a"; }
        catch (UnauthorizedAccessException) { return "n/a"; }
    }
}
