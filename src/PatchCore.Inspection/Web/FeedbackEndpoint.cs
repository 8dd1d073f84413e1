using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PatchCore.Core.Scoring;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Web;

/// <summary>What <c>POST /v1/results/{id}/feedback</c> answers: the record, its product, and where its image now waits.</summary>
internal sealed record FeedbackAccepted(string Id, string Product, string File);

/// <summary>
/// <c>POST /v1/results/{id}/feedback</c>: the operator judged the image of a review or ng record good. Its image is
/// moved, as an operator would move it by hand, from where the record says it lies into its product's
/// <c>feedback/good/</c> (<see cref="FeedbackFolders"/>), where the feedback loop checks and uses it (<see cref="BankFeedback"/>).
/// Only a review or ng record's image, only from inside the outbox and reached without a link; 409 when feedback is
/// off, the verdict is not review or ng, or the image is no longer where its record says (already fed back or moved).
/// </summary>
internal static class FeedbackEndpoint
{
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost("/v1/results/{id}/feedback", Post)
            .WithName("Feedback").WithTags("results")
            .WithSummary("Marks a review or ng image good: it is moved into its product's feedback/good/ to update the bank")
            .WithMetadata(RequiresApiKey.Instance)
            .Produces<FeedbackAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

    private static async Task<IResult> Post(string id, JournalReader journal, Layout layout, InspectionOptions options, ProductCatalog products, CancellationToken cancel)
    {
        if (ResultsEndpoints.BadId(id) is { } bad) return bad;
        if (!options.Feedback.Enabled)
            return Conflict("Feedback is off (Inspection:Feedback:Enabled is false): nothing would use the image.", "Feedback off");
        var entry = await journal.FindAsync(id, cancel).ConfigureAwait(false);
        if (entry is null) return ResultsEndpoints.NoSuchRecord(id);
        var record = InspectionRecord.FromJsonLine(entry.Json);
        if (record is null) return ResultsEndpoints.NoSuchRecord(id);
        if (record.Verdict is not (Verdict.Review or Verdict.Ng))
            return Conflict($"Record {id} was judged {Verdicts.Name(record.Verdict)}: only review and ng images are fed back as good.", "Not a review or ng record");
        string product = record.Product ?? Product.DefaultName;
        if (!products.Contains(product))
            return Conflict($"Record {id} belongs to product '{product}', which this daemon no longer serves.", "Unknown product");
        if (Inside(layout.Outbox, record.Path) is not { } source)
            return Conflict($"The image of record {id} is no longer at {record.Path} (already fed back, or moved away).", "Image not there");

        var folders = new FeedbackFolders(layout, product);
        Directory.CreateDirectory(folders.Good);
        string target = Layout.UniqueDestination(folders.Good, Path.GetFileName(source), new HashSet<string>());
        try
        {
            File.Move(source, target);
        }
        catch (FileNotFoundException)
        {
            return Conflict($"The image of record {id} is no longer at {record.Path} (already fed back, or moved away).", "Image not there");
        }
        return Results.Json(new FeedbackAccepted(id, product, Path.GetRelativePath(layout.Outbox, target)), WebJson.Default.FeedbackAccepted, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>The full path of <paramref name="file"/> if it is an existing regular file inside <paramref name="outbox"/>, reached without a link; else null.</summary>
    private static string? Inside(string outbox, string file)
    {
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outbox));
        string full = Path.GetFullPath(file);
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) return null;
        string current = root;
        foreach (string segment in Path.GetRelativePath(root, full).Split(Path.DirectorySeparatorChar))
        {
            current = Path.Combine(current, segment);
            if (new FileInfo(current).LinkTarget is not null) return null;
        }
        return File.Exists(full) ? full : null;
    }

    private static IResult Conflict(string detail, string title) => Results.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: title);
}
