namespace PatchCore.Inspection.Web;

/// <summary>One record of results.jsonl as the HTTP API serves it: its id, where its line starts and ends, and the line itself.</summary>
/// <param name="Json">The record exactly as the journal holds it (one JSON object, no newline).</param>
/// <param name="End">The offset just past the line's newline: where the next record starts.</param>
internal sealed record JournalEntry(string Id, long Offset, long End, string Json);
