using System.Diagnostics;
using System.Diagnostics.Metrics;
using PatchCore.Inspection.Intake;
using PatchCore.Core.Scoring;

namespace PatchCore.Inspection.Observability;

/// <summary>
/// The daemon's instruments, on meter <c>PatchCore.Inspection</c> (created through <see cref="IMeterFactory"/>, so each
/// host has its own and tests can listen to one host alone). Names follow the OpenTelemetry style that a Prometheus
/// exporter turns into <c>patchcore_inspection_images_total</c>, <c>patchcore_inspection_duration_seconds</c>, ...
/// health.json and the status line read these same instruments (<see cref="InspectionTotalsCollector"/>): there is no
/// second set of counters.
/// </summary>
public sealed class InspectionMetrics
{
    public const string MeterName = "PatchCore.Inspection";
    public const string ImagesName = "patchcore.inspection.images";
    public const string DurationName = "patchcore.inspection.duration";
    public const string BatchDurationName = "patchcore.inspection.batch.duration";
    public const string BatchSizeName = "patchcore.inspection.batch.size";
    public const string ErrorsName = "patchcore.inspection.errors";
    public const string BacklogName = "patchcore.inspection.backlog";

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

    /// <summary>The <c>verdict</c> tag's values, by <see cref="Verdict"/>: the journal's strings.</summary>
    private static readonly string[] VerdictNames = ["ok", "ng", "quarantined", "review"];

    private readonly Counter<long> _images;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _errors;

    public InspectionMetrics(IMeterFactory meterFactory, InboxIntake intake)
    {
        Meter = meterFactory.Create(MeterName);
        _images = Meter.CreateCounter<long>(ImagesName, "{image}", "Images recorded in results.jsonl, by verdict (ok, review, ng, quarantined) and product.");
        _duration = Meter.CreateHistogram<double>(DurationName, "s", "Time from an image's arrival in the inbox to its durable record, by verdict and product.");
        _batchDuration = Meter.CreateHistogram<double>(BatchDurationName, "s", "Wall time of one batch: checks, scoring, heatmaps, records, moves, checkpoint.");
        _batchSize = Meter.CreateHistogram<int>(BatchSizeName, "{image}", "Files taken in one batch (at most Inspection:MaxBatchSize).");
        _errors = Meter.CreateCounter<long>(ErrorsName, "{error}", "Errors, by error.type: io (retried), heatmap, batch, bank, worker, mqtt.");
        Meter.CreateObservableGauge(BacklogName, () => intake.Backlog, "{file}", "Files seen in the inbox and not yet finished (settling, queued or in a batch).");
    }

    public Meter Meter { get; }

    /// <summary>An image's record is durable.</summary>
    /// <param name="product">Its product; null for a file of no product, tagged "" (no product name can be empty).</param>
    public void Recorded(Verdict verdict, TimeSpan sinceArrival, string? product)
    {
        var tags = new TagList { { "verdict", VerdictNames[(int)verdict] }, { "product", product ?? "" } };
        _images.Add(1, tags);
        _duration.Record(Math.Max(0, sinceArrival.TotalSeconds), tags);
    }

    public void BatchDone(int files, TimeSpan elapsed)
    {
        _batchSize.Record(files);
        _batchDuration.Record(elapsed.TotalSeconds);
    }

    public void Error(string type) => _errors.Add(1, new KeyValuePair<string, object?>("error.type", type));
}
