using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PatchCore.Core.Scoring;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Web;

/// <summary>
/// <c>POST /v1/inspect[?product=NAME][&amp;name=ORIGINAL]</c>, body = the image's bytes: the image joins the daemon's
/// batches through <see cref="ImageSubmissions"/> (written into the product's inbox folder as a camera would, scored
/// with the folder images, recorded in the one journal) and the answer is its record, exactly as results.jsonl holds it:
/// 200 for ok, review and ng, 422 for an image that could not be scored (the record says why, and the image is kept in
/// quarantine). Refused before anything is kept: 400 empty body or bad name/metadata, 404 unknown product, 413 more than
/// <c>Inspection:MaxFileBytes</c> (a declared Content-Length is refused unread), 503 with Retry-After when
/// <c>Inspection:Http:MaxPending</c> uploads wait already (the rate limiter) or the daemon is stopping. An upload whose
/// record has not come within <c>Inspection:Http:RecordTimeoutMs</c>, or when the daemon stops, is answered 202 with
/// its id: it keeps its place and its record comes later under that id.
/// </summary>
internal sealed class InspectEndpoint
{
    /// <summary>The rate limiter's policy that bounds the uploads waiting at once.</summary>
    public const string PendingPolicy = "uploads";

    /// <summary>The sender's name for the image (ASCII); non-ASCII names go in the <c>name</c> query parameter.</summary>
    public const string NameHeader = "X-Original-Name";

    /// <summary>Headers <c>X-Meta-KEY: VALUE</c> become the record's <c>submission.metadata</c>.</summary>
    public const string MetadataHeaderPrefix = "X-Meta-";

    private readonly ImageSubmissions _submissions;
    private readonly HttpOptions _http;
    private readonly InspectionOptions _options;
    private readonly InspectionTotalsCollector _totals;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<InspectEndpoint> _log;

    public InspectEndpoint(ImageSubmissions submissions, IOptions<HttpOptions> http, InspectionOptions options,
        InspectionTotalsCollector totals, IHostApplicationLifetime lifetime, ILogger<InspectEndpoint> log)
    {
        _submissions = submissions;
        _http = http.Value;
        _options = options;
        _totals = totals;
        _lifetime = lifetime;
        _log = log;
    }

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost("/v1/inspect", ([FromQuery] string? product, [FromQuery] string? name, HttpContext http, InspectEndpoint endpoint) =>
                endpoint.HandleAsync(http, product, name))
            .WithName("Inspect")
            .WithTags("inspection")
            .WithSummary("Inspect one image: its record once it is scored and durable in the journal")
            .WithDescription("Body: the image's bytes (PNG, JPEG, BMP, ...). product: the product whose bank scores it (default: the images " +
                             "directly in the inbox). name, or header X-Original-Name: the image's name, kept in the record and used for its " +
                             "place in the outbox. Headers X-Meta-KEY: VALUE: notes kept in the record. 200: ok, review or ng; 422: not " +
                             "scorable, quarantined with the reason; 202: accepted, record later under its id.")
            // Any content type: the bytes are decoded by what they are, whatever the client says they are.
            .Accepts<Stream>("application/octet-stream", "image/png", "image/jpeg", "image/bmp", "*/*")
            .Produces<InspectionRecord>(StatusCodes.Status200OK)
            .Produces<InspectionRecord>(StatusCodes.Status422UnprocessableEntity)
            .Produces<QueuedSubmission>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireRateLimiting(PendingPolicy)
            .WithMetadata(RequiresApiKey.Instance);

    private async Task<IResult> HandleAsync(HttpContext http, string? product, string? name)
    {
        var request = http.Request;
        var aborted = http.RequestAborted;
        if (request.ContentLength > _options.MaxFileBytes)
            return Refuse(StatusCodes.Status413PayloadTooLarge, "Image too large",
                $"The body declares {request.ContentLength} bytes; Inspection:MaxFileBytes is {_options.MaxFileBytes}. Nothing was read or kept.");
        if (request.ContentLength == 0)
            return Refuse(StatusCodes.Status400BadRequest, "Empty body", "The body must be the image's bytes; it is empty.");

        var submission = new Submission(product ?? Product.DefaultName, name ?? request.Headers[NameHeader].FirstOrDefault() ?? DefaultName(request.ContentType), "http")
        {
            Metadata = Metadata(request.Headers),
        };
        var started = Stopwatch.GetTimestamp();
        SubmittedImage submitted;
        try
        {
            submitted = await _submissions.SubmitAsync(submission, request.Body, aborted).ConfigureAwait(false);
        }
        catch (SubmissionRefusedException e)
        {
            return e.Refusal switch
            {
                SubmissionRefusal.UnknownProduct => Refuse(StatusCodes.Status404NotFound, "Unknown product", e.Message),
                SubmissionRefusal.TooLarge => Refuse(StatusCodes.Status413PayloadTooLarge, "Image too large", e.Message + "; nothing was kept."),
                SubmissionRefusal.NotRunning => Unavailable("Not taking images", e.Message),
                SubmissionRefusal.Empty => Refuse(StatusCodes.Status400BadRequest, "Empty body", "The body must be the image's bytes; it is empty."),
                _ => Refuse(StatusCodes.Status400BadRequest, "Bad submission", e.Message),
            };
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Kestrel counts the body against the same limit (Kestrel's MaxRequestBodySize is Inspection:MaxFileBytes).
            return Refuse(e.StatusCode, "Image too large", $"The image is larger than Inspection:MaxFileBytes ({_options.MaxFileBytes} bytes); nothing was kept.");
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own refusals while the body was read: over its size limit, a malformed or cut-short body, too slow.
            return Refuse(e.StatusCode, "Bad request body", e.Message + "; nothing was kept.");
        }
        catch (Exception e) when ((e is OperationCanceledException or IOException) && aborted.IsCancellationRequested)
        {
            return Results.Empty; // the client went away before its upload was kept: nothing was kept, nobody to answer
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.UploadUnstorable(e, submission.Product, e.Message);
            return Unavailable("Cannot keep the image", $"The daemon cannot write the upload ({e.Message}); nothing was kept.");
        }

        // From here on the image is kept: it gets its record whatever happens to this request.
        http.Response.Headers.Location = $"/v1/results/{submitted.Id}";
        using var stopOrGone = CancellationTokenSource.CreateLinkedTokenSource(aborted, _lifetime.ApplicationStopping);
        try
        {
            var record = await submitted.Record.WaitAsync(TimeSpan.FromMilliseconds(_http.RecordTimeoutMs), stopOrGone.Token).ConfigureAwait(false);
            int status = record.Verdict == Verdict.Quarantined ? StatusCodes.Status422UnprocessableEntity : StatusCodes.Status200OK;
            return Results.Text(record.ToJsonLine(), "application/json", Encoding.UTF8, status);
        }
        catch (TimeoutException)
        {
            return Later(submitted, started, "no record yet");
        }
        catch (OperationCanceledException) when (_lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return Later(submitted, started, "the daemon is stopping");
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return Results.Empty; // the client went away; the image is kept and gets its record
        }
        catch (FileNotFoundException e)
        {
            return Refuse(StatusCodes.Status409Conflict, "Removed before it was recorded", e.Message);
        }
    }

    private IResult Later(SubmittedImage submitted, long started, string why)
    {
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        _log.UploadAnsweredLater(submitted.Id, submitted.OriginalName, seconds, why);
        return Results.Json(new QueuedSubmission(submitted.Id, submitted.Product, submitted.OriginalName, "queued",
                $"Accepted and kept in the inbox, but {why} after {seconds:F0} s; its record comes later: GET /v1/results/{submitted.Id}."),
            WebJson.Default.QueuedSubmission, statusCode: StatusCodes.Status202Accepted);
    }

    private IResult Refuse(int status, string title, string detail)
    {
        _log.UploadRefused(status, detail);
        return Results.Problem(detail, statusCode: status, title: title);
    }

    private IResult Unavailable(string title, string detail)
    {
        var totals = _totals.Snapshot();
        return new RetryLater(RetryAfter.Seconds(totals), Refuse(StatusCodes.Status503ServiceUnavailable, title, detail));
    }

    /// <summary>A name for an upload that came without one, from its content type, so it lands in the outbox with a usable extension.</summary>
    private static string DefaultName(string? contentType) => contentType?.Split(';')[0].Trim().ToLowerInvariant() switch
    {
        "image/png" => "upload.png",
        "image/jpeg" => "upload.jpg",
        "image/bmp" => "upload.bmp",
        "image/tiff" => "upload.tif",
        "image/webp" => "upload.webp",
        "image/gif" => "upload.gif",
        _ => "upload",
    };

    /// <summary>X-Meta-KEY headers as the submission's metadata (keys in lower case: header names ignore case); null when none.</summary>
    private static Dictionary<string, string>? Metadata(IHeaderDictionary headers)
    {
        Dictionary<string, string>? metadata = null;
        foreach (var (header, values) in headers)
        {
            if (!header.StartsWith(MetadataHeaderPrefix, StringComparison.OrdinalIgnoreCase) || header.Length == MetadataHeaderPrefix.Length) continue;
            metadata ??= new Dictionary<string, string>(StringComparer.Ordinal);
            metadata[header[MetadataHeaderPrefix.Length..].ToLowerInvariant()] = string.Join(", ", values.ToArray());
        }
        return metadata;
    }

    /// <summary>A result with a Retry-After header.</summary>
    private sealed class RetryLater(int seconds, IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
