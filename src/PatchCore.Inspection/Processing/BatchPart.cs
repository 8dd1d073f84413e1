using System.Diagnostics;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Processing;

/// <summary>
/// One product's files of a gathered batch (or its refused entries, which no bank looks at) on their way through the
/// worker's pipeline: <see cref="BatchInspector.Score"/> fills <see cref="Outcomes"/>,
/// <see cref="BatchInspector.WriteImagesAsync"/> turns them into <see cref="Records"/> (heatmaps written, decoded images
/// freed), <see cref="BatchInspector.CommitAsync"/> makes them durable. Holds its bank's lease until
/// <see cref="BatchInspector.Finish"/>; its files are given back to the intake when the worker finishes it.
/// </summary>
/// <param name="taken">The files as the intake gave them, given back to it when the part is finished.</param>
internal sealed class BatchPart(IReadOnlyList<InboxFile> taken, BankLease? lease)
{
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Started { get; } = Stopwatch.GetTimestamp();

    public IReadOnlyList<InboxFile> Taken { get; } = taken;

    /// <summary>The files, each submission resolved to its ticket's name, time and id (set when scored).</summary>
    public IReadOnlyList<InboxFile> Files { get; set; } = [];

    /// <summary>The bank of the part's product; null for refused entries only.</summary>
    public ActiveBank? Bank => Lease?.Bank;

    public BankLease? Lease { get; set; } = lease;

    /// <summary>Bank switches journaled before this part's records (the first part of a gathered batch carries them).</summary>
    public IReadOnlyList<BankSwitchEntry> Switches { get; set; } = [];

    /// <summary>
    /// Why the part could not be finished (a scorer broken as a whole, a bank that cannot be loaded, a heatmap folder that
    /// cannot be made); its files stay in the inbox and the worker recovers. Null while all is well.
    /// </summary>
    public Exception? Failure { get; set; }

    /// <summary>One per file, in order, once scored.</summary>
    public FileOutcome[] Outcomes { get; set; } = [];

    public DateTimeOffset ScoredAt { get; set; }

    /// <summary>Width x height of the part's largest scored original (0 when none was scored): what its decoded images weigh.</summary>
    public long LargestImagePixels =>
        Outcomes.OfType<FileOutcome.Scored>().Select(s => s.Result.Image is { } image ? (long)image.Width * image.Height : 0).DefaultIfEmpty(0).Max();

    /// <summary>The records to append (vanished files have none), once their images are written.</summary>
    public List<InspectionRecord> Records { get; } = [];

    /// <summary>For each record, the kind of its quarantine (<see cref="Observability.InspectionMetrics.QuarantineKinds"/>), or null.</summary>
    public List<string?> Quarantines { get; } = [];

    /// <summary>Destinations reserved for this part's records until its images lie there.</summary>
    public List<string> Reserved { get; } = [];

    /// <summary>Completes once the part is committed or given up and its files are given back.</summary>
    public Task Finished => _finished.Task;

    public void MarkFinished() => _finished.TrySetResult();
}
