using System.Runtime.InteropServices;
using System.Text;

namespace PatchCore.Inspection.Outbox;

/// <summary>
/// Symbolic links as entries of their own, never followed. A link in the inbox is quarantined as it is: every step
/// that finds, compares or moves it works on the link itself (lstat semantics), because .NET's file helpers follow
/// links where it matters here: File.Exists is false for a link to a folder, File.Move refuses one, and File.Move
/// across file systems copies the target's content. So the link's own rename is called from libc.
/// </summary>
internal static partial class Links
{
    private const int AtCurrentFolder = -100;   // AT_FDCWD
    private const uint RenameNoReplace = 1;     // RENAME_NOREPLACE
    private const int NoEntry = 2, CrossDevice = 18, Invalid = 22, NotSupported = 95, NoSystemCall = 38;
    private const int PermissionDenied = 13, NotPermitted = 1;

    /// <summary>Whether <paramref name="path"/> is itself a symbolic link (dangling or not, to a file or a folder).</summary>
    public static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;

    /// <summary>Something is at <paramref name="path"/>: a file, a folder, or a link (a dangling one included).</summary>
    public static bool EntryExists(string path) => Path.Exists(path) || IsLink(path);

    /// <summary>The size a record gives a link: the length of the path it holds (what lstat reports), never its target's size.</summary>
    public static long Size(string path) => Encoding.UTF8.GetByteCount(new FileInfo(path).LinkTarget ?? "");

    /// <summary>
    /// Moves the link <paramref name="source"/> (not its target) to <paramref name="destination"/>, never over an entry
    /// that is there. Across file systems the link is made again at the destination with the same target and the
    /// source removed: its target is never opened.
    /// </summary>
    /// <exception cref="FileNotFoundException">The source is gone.</exception>
    /// <exception cref="IOException">The destination exists, or another I/O error.</exception>
    /// <exception cref="UnauthorizedAccessException">Permission denied.</exception>
    public static void Move(string source, string destination)
    {
        if (RenameAt2(AtCurrentFolder, source, AtCurrentFolder, destination, RenameNoReplace) == 0) return;
        int errno = Marshal.GetLastPInvokeError();
        switch (errno)
        {
            case CrossDevice:
                string target = new FileInfo(source).LinkTarget ?? throw new FileNotFoundException($"{source} is no longer a link", source);
                File.CreateSymbolicLink(destination, target); // fails if something is there
                File.Delete(source);
                return;
            case Invalid or NotSupported or NoSystemCall:
                // A file system without RENAME_NOREPLACE: check, then a plain rename (nothing else writes the outbox).
                if (EntryExists(destination)) throw new IOException($"Cannot move {source}: {destination} exists.");
                if (Rename(source, destination) == 0) return;
                throw Error(Marshal.GetLastPInvokeError(), source, destination);
            default:
                throw Error(errno, source, destination);
        }
    }

    private static Exception Error(int errno, string source, string destination)
    {
        string message = $"Cannot move the link {source} to {destination}: {Marshal.GetPInvokeErrorMessage(errno)}";
        return errno switch
        {
            NoEntry => new FileNotFoundException(message, source),
            PermissionDenied or NotPermitted => new UnauthorizedAccessException(message),
            _ => new IOException(message),
        };
    }

    [LibraryImport("libc", EntryPoint = "renameat2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int RenameAt2(int oldFolder, string oldPath, int newFolder, string newPath, uint flags);

    [LibraryImport("libc", EntryPoint = "rename", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Rename(string oldPath, string newPath);
}
