using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Web;

/// <summary>
/// The results, read from the journal (<see cref="JournalReader"/>): <c>GET /v1/results?since=ID&amp;limit=N</c>,
/// <c>GET /v1/results/{id}</c> and <c>GET /v1/results/{id}/heatmap</c>. An id is 32 lowercase hex digits or the request
/// is refused (400) before anything is looked up, so no id can name a path; a heatmap is served only from the file its
/// record names, and only when that file is a plain PNG inside the outbox, reached without a link.
/// </summary>
internal static partial class ResultsEndpoints
{
    public const int DefaultLimit = 100;

    public static void Map(IEndpointRouteBuilder app)
    {
        var results = app.MapGroup("/v1/results").WithTags("results").WithMetadata(RequiresApiKey.Instance);
        results.MapGet("", ListAsync)
            .WithName("Results")
            .WithSummary("Records from the journal: the latest ones, or those after a record")
            .WithDescription($"since: a record id; the records after it, oldest first (404 when the journal has no such record). Without " +
                             $"since: the latest ones. limit: 1 to {JournalReader.RecentCapacity} (default {DefaultLimit}). next: the id to pass as since next.")
            .Produces<ResultsPage>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        results.MapGet("/{id}", GetAsync)
            .WithName("Result")
            .WithSummary("One record, exactly as the journal holds it")
            .Produces<InspectionRecord>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        results.MapGet("/{id}/heatmap", HeatmapAsync)
            .WithName("Heatmap")
            .WithSummary("The record's heatmap overlay (PNG): the image in the bank's colour scale, defect regions boxed")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> ListAsync([FromQuery] string? since, [FromQuery] string? limit, JournalReader journal, CancellationToken cancel)
    {
        int count = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1 || count > JournalReader.RecentCapacity))
            return Results.Problem($"limit must be a whole number from 1 to {JournalReader.RecentCapacity} (got '{Shorten(limit)}').", statusCode: StatusCodes.Status400BadRequest, title: "Bad limit");
        IReadOnlyList<JournalEntry> page;
        if (since is null)
        {
            page = journal.Latest(count);
        }
        else
        {
            if (BadId(since) is { } bad) return bad;
            var after = await journal.AfterAsync(since, count, cancel).ConfigureAwait(false);
            if (after is null) return NoSuchRecord(since);
            page = after;
        }
        // The records go out as the journal holds them, not parsed and written again.
        var json = new StringBuilder("{\"results\":[");
        for (int i = 0; i < page.Count; i++) json.Append(i == 0 ? "" : ",").Append(page[i].Json);
        string? next = page.Count > 0 ? page[^1].Id : since;
        json.Append("],\"next\":").Append(next is null ? "null" : JsonSerializer.Serialize(next, WebJson.Default.String)).Append('}');
        return Results.Text(json.ToString(), "application/json", Encoding.UTF8);
    }

    private static async Task<IResult> GetAsync(string id, JournalReader journal, CancellationToken cancel)
    {
        if (BadId(id) is { } bad) return bad;
        var entry = await journal.FindAsync(id, cancel).ConfigureAwait(false);
        return entry is null ? NoSuchRecord(id) : Results.Text(entry.Json, "application/json", Encoding.UTF8);
    }

    private static async Task<IResult> HeatmapAsync(string id, JournalReader journal, Layout layout, HttpContext http, CancellationToken cancel)
    {
        if (BadId(id) is { } bad) return bad;
        var entry = await journal.FindAsync(id, cancel).ConfigureAwait(false);
        if (entry is null) return NoSuchRecord(id);
        string? heatmap;
        using (var record = JsonDocument.Parse(entry.Json))
            heatmap = record.RootElement.TryGetProperty("heatmap", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        if (heatmap is null)
            return Results.Problem($"Record {id} has no heatmap (it was not scored, or its heatmap could not be written).", statusCode: StatusCodes.Status404NotFound, title: "No heatmap");
        if (ServablePng(layout.Outbox, heatmap) is not { } path)
            return Results.Problem($"The heatmap of record {id} is not a PNG file in the outbox.", statusCode: StatusCodes.Status404NotFound, title: "No heatmap");
        // A record's heatmap never changes: the page's thumbnails come from the browser's cache after the first time.
        http.Response.Headers.CacheControl = "private, max-age=86400, immutable";
        return Results.File(path, "image/png");
    }

    /// <summary>
    /// The full path of <paramref name="file"/> if it is a regular .png file inside <paramref name="outbox"/> and neither it
    /// nor any folder between the outbox and it is a link; else null. A record names its heatmap, but the journal is a
    /// file a person can edit: nothing outside the outbox is ever read for a request.
    /// </summary>
    public static string? ServablePng(string outbox, string file)
    {
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outbox));
        string full = Path.GetFullPath(file);
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !full.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            return null;
        string current = root;
        foreach (string segment in Path.GetRelativePath(root, full).Split(Path.DirectorySeparatorChar))
        {
            current = Path.Combine(current, segment);
            if (new FileInfo(current).LinkTarget is not null) return null;
        }
        return File.Exists(full) ? full : null;
    }

    internal static IResult? BadId(string id) => IdPattern().IsMatch(id)
        ? null
        : Results.Problem($"'{Shorten(id)}' is not a record id (32 lowercase hex digits).", statusCode: StatusCodes.Status400BadRequest, title: "Bad record id");

    internal static IResult NoSuchRecord(string id) =>
        Results.Problem($"The journal has no record {id}.", statusCode: StatusCodes.Status404NotFound, title: "No such record");

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "...";

    [GeneratedRegex("^[0-9a-f]{32}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
