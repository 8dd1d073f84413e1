namespace PatchCore.Inspection.Outbox;

/// <summary>One whole line of results.jsonl: its bytes without the newline, the offset it starts at, and <see cref="End"/>,
/// the offset just past its newline (where the next line starts).</summary>
internal readonly record struct JournalLine(long Start, long End, ReadOnlyMemory<byte> Bytes);
