using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Web;

/// <summary>
/// What GET /v1/results answers: records as the journal holds them, oldest first, and the id to ask <c>since</c> next
/// (the last record's, or the <c>since</c> given when nothing followed it; null for an empty journal).
/// </summary>
internal sealed record ResultsPage(IReadOnlyList<InspectionRecord> Results, string? Next);
