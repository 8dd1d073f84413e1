using System.Runtime.InteropServices;

namespace PatchCore.Inspection.Outbox;

/// <summary>Writes that survive a crash or power cut: fsync of files and of the folders that name them.</summary>
internal static partial class Durable
{
    /// <summary>How the temp file of <see cref="WriteAllBytes"/> ends: <c>.NAME.PID.tmp</c>, hidden, beside its target.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>
    /// Removes the temp files that a killed <see cref="WriteAllBytes"/> left in <paramref name="folder"/> (the target was
    /// never replaced by them, so they hold nothing that counts). Only for a folder no live process writes to: at start,
    /// under the daemon's folder lock. Returns how many were removed.
    /// </summary>
    public static int RemoveDeadTemps(string folder)
    {
        int removed = 0;
        foreach (string temp in Directory.EnumerateFiles(folder, "." + "*" + TempSuffix))
        {
            TryDelete(temp);
            removed++;
        }
        return removed;
    }

    /// <summary>Replaces <paramref name="path"/> with <paramref name="bytes"/> atomically: temp file, fsync, rename, fsync folder.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder, $".{Path.GetFileName(path)}.{Environment.ProcessId}{TempSuffix}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        FsyncFolder(folder);
    }

    /// <summary>
    /// Makes a rename or a new file in <paramref name="folder"/> durable. .NET cannot open a folder as a stream,
    /// so this calls open/fsync/close from libc; a no-op where that is not available.
    /// </summary>
    public static void FsyncFolder(string folder)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        int fd = Open(folder, 0 /* O_RDONLY */);
        if (fd < 0) return;
        try { _ = Fsync(fd); }
        finally { _ = Close(fd); }
    }

    public static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
