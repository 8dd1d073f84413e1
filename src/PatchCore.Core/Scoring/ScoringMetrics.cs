using System.Diagnostics.Metrics;

namespace PatchCore.Core.Scoring;

/// <summary>
/// The library's instruments (meter <c>PatchCore</c>): images scored or failed, and the time each phase took per image.
/// Hosts export them (System.Diagnostics.Metrics listeners, OpenTelemetry); nothing here aggregates.
/// </summary>
internal static class ScoringMetrics
{
    public const string MeterName = "PatchCore";

    private static readonly Meter Meter = new(MeterName, typeof(ScoringMetrics).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> Images = Meter.CreateCounter<long>(
        "patchcore.scoring.images", unit: "{image}", description: "Image files scored (outcome=scored) or refused (outcome=failed: unreadable, not an image, scoring failed).");

    private static readonly Histogram<double> PhaseDuration = Meter.CreateHistogram<double>(
        "patchcore.scoring.phase.duration", unit: "s", description: "Time per image in each phase (decode, embed, search, map); batch phases are shared among the batch's images.");

    private static readonly KeyValuePair<string, object?> ScoredTag = new("outcome", "scored");
    private static readonly KeyValuePair<string, object?> FailedTag = new("outcome", "failed");

    public static void Scored(ScoreTimings timings)
    {
        Images.Add(1, ScoredTag);
        if (!PhaseDuration.Enabled) return;
        PhaseDuration.Record(timings.Decode.TotalSeconds, new KeyValuePair<string, object?>("phase", "decode"));
        PhaseDuration.Record(timings.Embedding.TotalSeconds, new KeyValuePair<string, object?>("phase", "embed"));
        PhaseDuration.Record(timings.Search.TotalSeconds, new KeyValuePair<string, object?>("phase", "search"));
        PhaseDuration.Record(timings.Map.TotalSeconds, new KeyValuePair<string, object?>("phase", "map"));
    }

    public static void Failed() => Images.Add(1, FailedTag);
}
