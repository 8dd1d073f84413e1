using System.Globalization;

namespace PatchCore.Bench;

/// <summary>This process's resident memory from /proc/self/status (Linux): current (VmRSS) and peak (VmHWM).</summary>
internal static class ProcessMemory
{
    public static long RssBytes => Read("VmRSS:");
    public static long PeakRssBytes => Read("VmHWM:");

    /// <summary>RSS after a blocking, compacting, aggressive collection, so that managed garbage does not count.</summary>
    public static long RssAfterFullCollection()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return RssBytes;
    }

    private static long Read(string key)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
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
