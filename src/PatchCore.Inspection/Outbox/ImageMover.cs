using System.Security.Cryptography;
using System.Text;
using PatchCore.Core.Scoring;

namespace PatchCore.Inspection.Outbox;

/// <summary>
/// Takes an image whose record is already durable out of the inbox and to the place the record names, in steps
/// that can be repeated after a crash at any point:
/// 1. rename inbox/NAME to inbox/.inspection/staging/ID.ext (same file system: atomic; the inbox name is free from
///    here on, so a later file of the same name is a new arrival, never mistaken for this one);
/// 2. for quarantine, write NAME.reason.txt beside the destination;
/// 3. move staging to the destination (a rename on one file system; across file systems .NET copies then deletes,
///    and a copy cut short is detected by its content hash and redone).
/// A symbolic link is moved as the link itself, never through it (<see cref="Links"/>).
/// </summary>
internal sealed class ImageMover : IImageMover
{
    private readonly Layout _layout;

    public ImageMover(Layout layout) => _layout = layout;

    public MoveOutcome Complete(InspectionRecord record, bool sourceVerified)
    {
        string staging = _layout.StagingPath(record.Id, record.OriginalName);
        string destination = record.Path;
        bool staged = Links.EntryExists(staging);
        bool arrived = Links.EntryExists(destination);

        if (!staged && !arrived)
        {
            if (!Links.EntryExists(record.InboxPath) || (!sourceVerified && !SameContent(record.InboxPath, record)))
                return MoveOutcome.Vanished;
            Directory.CreateDirectory(_layout.StagingFolder);
            try
            {
                MoveEntry(record.InboxPath, staging);
            }
            catch (FileNotFoundException)
            {
                return MoveOutcome.Vanished; // removed between the check and the rename
            }
            staged = true;
        }

        if (!staged)
        {
            EnsureReason(record);
            return MoveOutcome.AlreadyThere;
        }

        string folder = Path.GetDirectoryName(destination)!;
        Directory.CreateDirectory(folder);
        EnsureReason(record);
        if (arrived)
        {
            if (SameContent(destination, record))
            {
                File.Delete(staging);
                return MoveOutcome.AlreadyThere;
            }
            File.Delete(destination); // a cross-device copy cut short by the crash
        }
        MoveEntry(staging, destination);
        return MoveOutcome.Moved;
    }

    /// <summary>A file is moved by .NET (a copy across file systems); a link as the link itself.</summary>
    internal static void MoveEntry(string source, string destination)
    {
        if (Links.IsLink(source)) Links.Move(source, destination);
        else File.Move(source, destination, overwrite: false);
    }

    private static void EnsureReason(InspectionRecord record)
    {
        if (record.Reason is null || record.Verdict != Verdict.Quarantined) return;
        string reasonPath = Layout.ReasonPath(record.Path);
        if (File.Exists(reasonPath)) return;
        var text = new StringBuilder()
            .Append("file: ").Append(record.OriginalName).Append('\n')
            .Append("reason: ").Append(record.Reason).Append('\n')
            .Append("received: ").Append(record.ReceivedAt.ToString("O")).Append('\n')
            .Append("sha256: ").Append(record.Sha256 ?? "(not read)").Append('\n')
            .Append("size: ").Append(record.Size).Append('\n');
        Durable.WriteAllBytes(reasonPath, Encoding.UTF8.GetBytes(text.ToString()));
    }

    private static bool SameContent(string path, InspectionRecord record)
    {
        var info = new FileInfo(path);
        // A link is recorded unread (no hash) with the length of the path it holds; it is compared as such, never read through.
        if (info.LinkTarget is not null) return record.Sha256 is null && Links.Size(path) == record.Size;
        if (!info.Exists || info.Length != record.Size) return false;
        // Unreadable when recorded: the size is all there is to compare. Empty: nothing to compare, and an empty entry
        // that is not a regular file (a FIFO) would block the open.
        if (record.Sha256 is null || record.Size == 0) return true;
        try
        {
            return string.Equals(Sha256Hex(path), record.Sha256, StringComparison.OrdinalIgnoreCase);
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>The SHA-256 of no bytes: what an empty file's record says, known without opening it.</summary>
    public const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public static string Sha256Hex(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
