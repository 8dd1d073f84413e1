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
/// </summary>
public sealed class ImageMover : IImageMover
{
    private readonly Layout _layout;

    public ImageMover(Layout layout) => _layout = layout;

    public MoveOutcome Complete(InspectionRecord record, bool sourceVerified)
    {
        string staging = _layout.StagingPath(record.Id, record.OriginalName);
        string destination = record.Path;
        bool staged = File.Exists(staging);
        bool arrived = File.Exists(destination);

        if (!staged && !arrived)
        {
            if (!File.Exists(record.InboxPath) || (!sourceVerified && !SameContent(record.InboxPath, record)))
                return MoveOutcome.Vanished;
            Directory.CreateDirectory(_layout.StagingFolder);
            try
            {
                File.Move(record.InboxPath, staging);
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
        File.Move(staging, destination, overwrite: false);
        return MoveOutcome.Moved;
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
            .Append("sha256: ").Append(record.Sha256 ?? "(unreadable)").Append('\n')
            .Append("size: ").Append(record.Size).Append('\n');
        Durable.WriteAllBytes(reasonPath, Encoding.UTF8.GetBytes(text.ToString()));
    }

    private static bool SameContent(string path, InspectionRecord record)
    {
        var info = new FileInfo(path);
        if (!info.Exists || info.Length != record.Size) return false;
        if (record.Sha256 is null) return true; // unreadable when recorded: the size is all there is to compare
        try
        {
            return string.Equals(Sha256Hex(path), record.Sha256, StringComparison.OrdinalIgnoreCase);
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    public static string Sha256Hex(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
