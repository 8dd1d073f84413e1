namespace PatchCore.Inspection.Outbox;

/// <summary>
/// The journal, results.jsonl: the truth every other output derives from. An interface so tests can make an append
/// fail (disk full) at a chosen call.
/// </summary>
internal interface IResultLog
{
    string FilePath { get; }

    long Length { get; }

    /// <summary>Appends the records durably, all or none. Returns the file length after the write.</summary>
    /// <exception cref="IOException">Disk full or another I/O error; nothing of this append remains, the caller retries.</exception>
    long Append(IReadOnlyList<InspectionRecord> records);

    /// <summary>Appends lines that are not image records (<see cref="BankSwitchEntry"/>) durably, all or none.</summary>
    long AppendEntries(IReadOnlyList<BankSwitchEntry> entries);

    /// <summary>Cuts off a last line torn by a crash. Returns the bytes removed.</summary>
    long RepairTornTail();

    /// <summary>The records that start at or after <paramref name="offset"/>; entries that are not records (<see cref="BankSwitchEntry"/>) are skipped, lines that do not parse are reported, not thrown.</summary>
    IEnumerable<InspectionRecord> ReadFrom(long offset, Action<string> onBadLine);

    /// <summary>
    /// The records of the journal's last <paramref name="bytes"/> (a journal of months need not be read whole to find
    /// recent ones); the line that start cuts does not parse and is skipped, as are lines that are not records.
    /// </summary>
    IEnumerable<InspectionRecord> ReadLast(long bytes) => ReadFrom(Math.Max(0, Length - bytes), _ => { });
}
