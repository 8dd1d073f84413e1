namespace PatchCore.Inspection.Outbox;

/// <summary>
/// The journal, results.jsonl: the truth every other output derives from. An interface so tests can make an append
/// fail (disk full) at a chosen call.
/// </summary>
public interface IResultLog
{
    string FilePath { get; }

    long Length { get; }

    /// <summary>Appends the records durably, all or none. Returns the file length after the write.</summary>
    /// <exception cref="IOException">Disk full or another I/O error; nothing of this append remains, the caller retries.</exception>
    long Append(IReadOnlyList<InspectionRecord> records);

    /// <summary>Cuts off a last line torn by a crash. Returns the bytes removed.</summary>
    long RepairTornTail();

    /// <summary>The records that start at or after <paramref name="offset"/>; lines that do not parse are reported, not thrown.</summary>
    IEnumerable<InspectionRecord> ReadFrom(long offset, Action<string> onBadLine);
}
