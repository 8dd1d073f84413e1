namespace PatchCore.Inspection.Publishing;

/// <summary>The counts in the retained status, since the daemon's start (the same numbers as health.json).</summary>
internal sealed record StatusCounts(long Processed, long Ok, long Review, long Ng, long Quarantined, int Backlog, long Errors);
