namespace PatchCore.Inspection.Web;

/// <summary>
/// The 202 answer of POST /v1/inspect when the record did not come in time (<c>Inspection:Http:RecordTimeoutMs</c>) or
/// the daemon is stopping: the image is kept in the inbox and its record will have <see cref="Id"/>
/// (<c>GET /v1/results/ID</c>).
/// </summary>
internal sealed record QueuedSubmission(string Id, string Product, string OriginalName, string Status, string Detail);
