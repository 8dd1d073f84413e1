using System.Text.Json.Serialization;

namespace PatchCore.Core.Scoring;

/// <summary>
/// What the line does with a part. Serialised in lower case (<c>"ok"</c>, <c>"review"</c>, <c>"ng"</c>,
/// <c>"quarantined"</c>): those strings are the contract of every file and message that carries a verdict, so they
/// are spelled out here rather than derived from the names.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<Verdict>))]
public enum Verdict
{
    /// <summary>Below the review threshold (or below the ng threshold when the review band is off): a good part.</summary>
    [JsonStringEnumMemberName("ok")] Ok,
    /// <summary>At or above the ng threshold: reject.</summary>
    [JsonStringEnumMemberName("ng")] Ng,
    /// <summary>The image could not be scored (unreadable, not an image, too large); the station sets it aside with the reason.</summary>
    [JsonStringEnumMemberName("quarantined")] Quarantined,
    /// <summary>Between the review and the ng threshold: above every held-out good part, below the ng threshold, so a person looks.</summary>
    [JsonStringEnumMemberName("review")] Review,
}

/// <summary>The verdicts' names as serialised.</summary>
public static class Verdicts
{
    public static string Name(Verdict verdict) => verdict switch
    {
        Verdict.Ok => "ok",
        Verdict.Ng => "ng",
        Verdict.Review => "review",
        _ => "quarantined",
    };
}
