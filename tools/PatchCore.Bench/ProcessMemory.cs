using System.Globalization;

namespace PatchCore.Bench;

/// <summary>Resident memory from /proc/PID/status (Linux): current (VmRSS) and peak (VmHWM), of this process or another.</summary>
internal static class ProcessMemory
{
    public static long RssBytes => Read("self", "VmRSS:");
    public static long PeakRssBytes => Read("self", "VmHWM:");

    /// <summary>VmRSS and VmHWM of process <paramref name="pid"/> (a child this bench started); -1 each once it is gone.</summary>
    public static (long Rss, long Peak) Of(int pid)
    {
        string id = pid.ToString(CultureInfo.InvariantCulture);
        return (Read(id, "VmRSS:"), Read(id, "VmHWM:"));
    }

    /// <summary>RSS after a blocking, compacting, aggressive collection, so that managed garbage does not count.</summary>
    public static long RssAfterFullCollection()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return RssBytes;
    }

    private static long Read(string process, string key)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{process}/status"))
            {
                if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
                string[] parts = line[key.Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024; // the value is in kB
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return -1;
    }
}
