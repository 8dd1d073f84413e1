namespace PatchCore.Inspection.Web;

/// <summary>
/// The daemon's HTTP API, bound from <c>Inspection:Http</c>. Off unless <see cref="Urls"/> is set: then the daemon serves
/// the API, <c>/metrics</c> and the live page from the same process as the folder worker.
/// </summary>
internal sealed class HttpOptions
{
    public const string Section = "Inspection:Http";

    /// <summary>
    /// Where to listen, separated by ';' (<c>http://127.0.0.1:8080</c>; port 0 picks a free one). Empty = no HTTP.
    /// Anything but loopback addresses (127.0.0.0/8, ::1, localhost) needs <see cref="ApiKey"/>.
    /// </summary>
    public string Urls { get; set; } = "";

    /// <summary>
    /// The key a request must carry (<c>X-Api-Key: KEY</c> or <c>Authorization: Bearer KEY</c>) for the API and
    /// /metrics; the live page asks for it once. Required when <see cref="Urls"/> reach beyond loopback; at least 16
    /// characters. /healthz, /readyz, the page itself and the OpenAPI document need none.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>Uploads (POST /v1/inspect) waiting for their record at once; one more is answered 503 with Retry-After.</summary>
    public int MaxPending { get; set; } = 32;

    /// <summary>How long an upload waits for its record; after that it is answered 202 with its id (its record comes later).</summary>
    public int RecordTimeoutMs { get; set; } = 120_000;

    public bool Enabled => !string.IsNullOrWhiteSpace(Urls);

    public IReadOnlyList<string> UrlList => Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
