using System.Diagnostics;
using System.Diagnostics.Metrics;
using PatchCore.Inspection.Intake;
using PatchCore.Core.Scoring;

namespace PatchCore.Inspection.Observability;

/// <summary>
/// The daemon's instruments, on meter <c>PatchCore.Inspection</c> (created through <see cref="IMeterFactory"/>, so each
/// host has its own and tests can listen to one host alone). Named so that the Prometheus exporter of the HTTP API
/// (<c>/metrics</c>) turns them into <c>patchcore_images_total{verdict,product}</c>, <c>patchcore_latency_seconds</c>,
/// <c>patchcore_score</c>, <c>patchcore_score_ratio</c>, <c>patchcore_quarantines_total</c>, <c>patchcore_errors_total</c>,
/// <c>patchcore_batch_duration_seconds</c>, <c>patchcore_batch_size</c> and <c>patchcore_backlog</c> (the bank and
/// process gauges are <see cref="DaemonGauges"/>). health.json and the status line read these same instruments
/// (<see cref="InspectionTotalsCollector"/>): there is no second set of counters.
/// </summary>
internal sealed class InspectionMetrics
{
    public const string MeterName = "PatchCore.Inspection";
    public const string ImagesName = "patchcore.images";
    public const string LatencyName = "patchcore.latency";
    public const string ScoreName = "patchcore.score";
    public const string ScoreRatioName = "patchcore.score.ratio";
    public const string QuarantinesName = "patchcore.quarantines";
    public const string BatchDurationName = "patchcore.batch.duration";
    public const string BatchSizeName = "patchcore.batch.size";
    public const string ErrorsName = "patchcore.errors";
    public const string BacklogName = "patchcore.backlog";

    /// <summary>Values of the <c>error.type</c> tag of <see cref="ErrorsName"/>.</summary>
    public static class ErrorTypes
    {
        /// <summary>A file-system step failed and is being retried (disk full, permission denied).</summary>
        public const string Io = "io";
        public const string Heatmap = "heatmap";
        /// <summary>A whole batch failed (the scorer threw); its files stay in the inbox and are taken again.</summary>
        public const string Batch = "batch";
        /// <summary>A replacement bank was refused; the old one stays.</summary>
        public const string Bank = "bank";
        public const string Worker = "worker";
        /// <summary>The MQTT broker cannot be reached or refused a record; publishing goes on from the journal once it can.</summary>
        public const string Mqtt = "mqtt";
    }

    /// <summary>Values of the <c>reason</c> tag of <see cref="QuarantinesName"/>: the class of a quarantine's reason (the text is in the record).</summary>
    public static class QuarantineKinds
    {
        /// <summary>Refused unscored by where or what it is: a link, a file outside a product's folder.</summary>
        public const string Refused = "refused";
        public const string Empty = "empty";
        public const string TooLarge = "too_large";
        public const string Unreadable = "unreadable";
        /// <summary>The scorer could not score it: not an image, corrupt or truncated, too many pixels, scoring failed.</summary>
        public const string Unscorable = "unscorable";
    }

    /// <summary>The <c>verdict</c> tag's values, by <see cref="Verdict"/>: the journal's strings.</summary>
    private static readonly string[] VerdictNames = ["ok", "ng", "quarantined", "review"];

    /// <summary>Seconds: from a fraction of a batch to a backlog of minutes.</summary>
    private static readonly double[] SecondsBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];

    /// <summary>
    /// Image scores are nearest-neighbour distances in the backbone's feature space, so their scale is the bank's (the
    /// ResNet18 sample bank's ng threshold is about 24): steps of 2.5 from 10 to 40, coarse ones around.
    /// </summary>
    private static readonly double[] ScoreBuckets = [1, 2.5, 5, 7.5, 10, 12.5, 15, 17.5, 20, 22.5, 25, 27.5, 30, 32.5, 35, 40, 50, 75, 100, 200];

    /// <summary>Score / ng threshold: the same scale for every bank, fine steps near 1 where verdicts are decided.</summary>
    private static readonly double[] RatioBuckets = [0.25, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1, 1.05, 1.1, 1.25, 1.5, 2, 3, 5];

    private readonly Counter<long> _images;
    private readonly Histogram<double> _latency;
    private readonly Histogram<double> _score;
    private readonly Histogram<double> _scoreRatio;
    private readonly Counter<long> _quarantines;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _errors;

    public InspectionMetrics(IMeterFactory meterFactory, InboxIntake intake)
    {
        Meter = meterFactory.Create(MeterName);
        _images = Meter.CreateCounter<long>(ImagesName, "{image}", "Images recorded in results.jsonl, by verdict (ok, review, ng, quarantined) and product.");
        _latency = Meter.CreateHistogram(LatencyName, "s", "Time from an image's arrival (in the inbox, or its upload) to its durable record, by verdict and product.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _score = Meter.CreateHistogram(ScoreName, "", "Image scores of the scored images (ok, review, ng), by product.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ScoreBuckets });
        _scoreRatio = Meter.CreateHistogram(ScoreRatioName, "", "Image score divided by the ng threshold its verdict used (1 and above: ng), by product: one scale for every bank.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RatioBuckets });
        _quarantines = Meter.CreateCounter<long>(QuarantinesName, "{image}", "Images quarantined, by product and reason (refused, empty, too_large, unreadable, unscorable).");
        _batchDuration = Meter.CreateHistogram(BatchDurationName, "s", "Wall time of one batch: checks, scoring, heatmaps, records, moves, checkpoint.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _batchSize = Meter.CreateHistogram<int>(BatchSizeName, "{image}", "Files taken in one batch (at most Inspection:MaxBatchSize).",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });
        _errors = Meter.CreateCounter<long>(ErrorsName, "{error}", "Errors, by error.type: io (retried), heatmap, batch, bank, worker, mqtt.");
        Meter.CreateObservableGauge(BacklogName, () => intake.Backlog, "{file}", "Files seen in the inbox and not yet finished (settling, queued or in a batch).");
    }

    public Meter Meter { get; }

    /// <summary>An image's record is durable.</summary>
    /// <param name="product">Its product; null for a file of no product, tagged "" (no product name can be empty).</param>
    /// <param name="score">Its score, when it was scored.</param>
    /// <param name="threshold">The ng threshold of its verdict, when it was scored.</param>
    /// <param name="quarantine">The kind of its quarantine (<see cref="QuarantineKinds"/>), when it was quarantined.</param>
    public void Recorded(Verdict verdict, TimeSpan sinceArrival, string? product, double? score = null, double? threshold = null, string? quarantine = null)
    {
        var tags = new TagList { { "verdict", VerdictNames[(int)verdict] }, { "product", product ?? "" } };
        _images.Add(1, tags);
        _latency.Record(Math.Max(0, sinceArrival.TotalSeconds), tags);
        var productTag = new KeyValuePair<string, object?>("product", product ?? "");
        if (score is { } s && double.IsFinite(s))
        {
            _score.Record(s, productTag);
            if (threshold is > 0 and var t && double.IsFinite(t)) _scoreRatio.Record(s / t, productTag);
        }
        if (quarantine is not null)
            _quarantines.Add(1, new KeyValuePair<string, object?>("product", product ?? ""), new KeyValuePair<string, object?>("reason", quarantine));
    }

    public void BatchDone(int files, TimeSpan elapsed)
    {
        _batchSize.Record(files);
        _batchDuration.Record(elapsed.TotalSeconds);
    }

    public void Error(string type) => _errors.Add(1, new KeyValuePair<string, object?>("error.type", type));
}
