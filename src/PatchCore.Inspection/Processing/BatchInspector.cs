using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PatchCore.Core;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;
using PatchCore.Core.Scoring;

namespace PatchCore.Inspection.Processing;

/// <summary>
/// Inspects one batch of one product (or of files that belong to no bank) in three steps that the worker's pipeline
/// overlaps across batches (<see cref="Score"/>, <see cref="WriteImagesAsync"/>, <see cref="CommitAsync"/>), in the
/// order that makes a crash at any point recoverable: check and hash each file, score them through the scorer's one
/// path, write heatmaps, append and fsync all records, then move each image out of the inbox, then advance the checkpoint. Entries the intake refused
/// (links, files outside a product's folder) are quarantined without being scored, and a link is never opened.
/// </summary>
internal sealed class BatchInspector
{
    private readonly InspectionOptions _options;
    private readonly Layout _layout;
    private readonly IResultLog _results;
    private readonly IImageMover _mover;
    private readonly IoRetry _retry;
    private readonly InspectionMetrics _metrics;
    private readonly DaemonStatus _status;
    private readonly ImageSubmissions _submissions;
    private readonly ILogger<BatchInspector> _log;
    private readonly DriftMonitor? _drift;
    /// <summary>Destinations of the records of every part in flight whose images are not there yet.</summary>
    private readonly HashSet<string> _reserved = new(StringComparer.Ordinal);

    public BatchInspector(InspectionOptions options, Layout layout, IResultLog results, IImageMover mover, IoRetry retry,
        InspectionMetrics metrics, DaemonStatus status, ImageSubmissions submissions, ILogger<BatchInspector> log, DriftMonitor? drift = null)
    {
        _drift = drift;
        _options = options;
        _layout = layout;
        _results = results;
        _mover = mover;
        _retry = retry;
        _metrics = metrics;
        _status = status;
        _submissions = submissions;
        _log = log;
    }

    /// <summary>
    /// The first step: checks and hashes each file and scores them through the scorer's one path. If the scorer fails as
    /// a whole this throws and nothing is recorded: the files stay in the inbox.
    /// </summary>
    /// <param name="abort">Cancelled only at the shutdown deadline; the restart's reconciliation then finishes the batch.</param>
    public void Score(BatchPart part, CancellationToken abort)
    {
        // A submitted image is an inbox file like any other; its ticket gives it its sender's name, time and id.
        part.Files = part.Taken.Select(_submissions.Resolve).ToList();
        part.Outcomes = CheckAndScore(part.Files, part.Bank?.Scorer, abort);
        part.ScoredAt = DateTimeOffset.UtcNow;
    }

    /// <summary>
    /// The second step, off the scoring path: reserves each record's destination, writes the heatmaps and masks (PNG
    /// encoding) and frees the decoded images. Destinations are reserved across the parts in flight, so a later part
    /// never takes a name an earlier one will move an image to.
    /// </summary>
    public async Task WriteImagesAsync(BatchPart part, CancellationToken abort)
    {
        try
        {
            foreach (var outcome in part.Outcomes)
            {
                if (outcome is FileOutcome.Vanished)
                {
                    _log.VanishedBeforeRecord(outcome.File.Name);
                    _submissions.Vanished(outcome.File);
                    continue;
                }
                part.Records.Add(await RecordAsync(outcome, part, abort).ConfigureAwait(false));
                part.Quarantines.Add((outcome as FileOutcome.Quarantined)?.Kind);
            }
        }
        finally
        {
            // Decoded pixels (and the originals kept for overlays) are not needed past the heatmaps.
            DisposeScored(part);
        }
    }

    /// <summary>
    /// The last step, in the order the batches were gathered: the records are durable before any image moves and before
    /// the metrics count them; then the moves, the folders' fsync and the checkpoint (see <see cref="CommitRecordsAsync"/>).
    /// </summary>
    public async Task CommitAsync(BatchPart part, CancellationToken abort)
    {
        if (part.Records.Count > 0) await CommitRecordsAsync(part.Records, part.Quarantines, abort).ConfigureAwait(false);
        if (part.Bank is { } bank && part.Records.Count > 0) _drift?.Observe(bank, part.Records);

        var elapsed = Stopwatch.GetElapsedTime(part.Started);
        _metrics.BatchDone(part.Files.Count, elapsed);
        _log.BatchDone(part.Files.Count, elapsed.TotalMilliseconds);
    }

    /// <summary>Ends a part, committed or not: frees any decoded images left, its reserved destinations and its bank's lease.</summary>
    public void Finish(BatchPart part)
    {
        DisposeScored(part);
        lock (_reserved)
            foreach (string destination in part.Reserved) _reserved.Remove(destination);
        part.Reserved.Clear();
        part.Lease?.Dispose();
        part.Lease = null;
    }

    private static void DisposeScored(BatchPart part)
    {
        foreach (var scored in part.Outcomes.OfType<FileOutcome.Scored>()) scored.Dispose();
    }

    /// <summary>
    /// Journals bank switches (<see cref="BankSwitchEntry"/>) between batches, so results.jsonl says from which line on a
    /// product's records come from its new bank. Retried like the records' append.
    /// </summary>
    public async Task JournalSwitchesAsync(IReadOnlyList<BankSwitchEntry> switches, CancellationToken abort)
    {
        if (switches.Count == 0) return;
        await _retry.RunAsync("Journaling a bank switch in results.jsonl", () => _results.AppendEntries(switches), abort).ConfigureAwait(false);
    }

    /// <summary>
    /// The records are durable before any image moves and before the metrics count them; then the moves, the folders'
    /// fsync and the checkpoint; then each submission's caller gets its record, whose image now lies where it says.
    /// </summary>
    /// <param name="quarantines">For each record, the kind of its quarantine (<see cref="InspectionMetrics.QuarantineKinds"/>), or null.</param>
    private async Task CommitRecordsAsync(List<InspectionRecord> records, List<string?> quarantines, CancellationToken abort)
    {
        long end = await _retry.RunAsync("Appending to results.jsonl", () => _results.Append(records), abort).ConfigureAwait(false);
        var recordedAt = DateTimeOffset.UtcNow;
        for (int i = 0; i < records.Count; i++)
            _metrics.Recorded(records[i].Verdict, recordedAt - records[i].ReceivedAt, records[i].Product, records[i].Score, records[i].Threshold, quarantines[i]);

        foreach (var record in records)
        {
            var moved = await _retry.RunAsync($"Moving {record.OriginalName} to {record.Path}", () => _mover.Complete(record, sourceVerified: true), abort).ConfigureAwait(false);
            if (moved == MoveOutcome.Vanished) _log.VanishedAfterRecord(record.OriginalName, record.Id);
        }
        await _retry.RunAsync("Syncing outbox folders", () => SyncFolders(records), abort).ConfigureAwait(false);
        await _retry.RunAsync("Writing the checkpoint", () => Checkpoint.Write(_layout.CheckpointFile, end), abort).ConfigureAwait(false);
        _submissions.Recorded(records);
    }

    /// <summary>One outcome per file of the batch, in its order.</summary>
    private FileOutcome[] CheckAndScore(IReadOnlyList<InboxFile> batch, IImageScorer? scorer, CancellationToken abort)
    {
        var outcomes = new FileOutcome?[batch.Count];
        var facts = new FileFacts[batch.Count];
        Parallel.For(0, batch.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.DecodeParallelism },
            i => outcomes[i] = Check(batch[i], out facts[i]));
        if (scorer is not null) Score(batch, facts, outcomes, scorer, abort);
        else if (outcomes.Any(o => o is null))
            throw new UnreachableException("A batch without a bank holds a file to score.");
        return outcomes.Select(o => o!).ToArray();
    }

    /// <summary>
    /// Size checks and content hash. Returns null when the file goes on to the scorer, else its outcome; never throws
    /// for a bad file. A link is recorded as the link (the length of the path it holds, no hash), never opened; an
    /// empty entry is never opened either (it may be a FIFO, whose open would wait for a writer).
    /// </summary>
    private FileOutcome? Check(InboxFile file, out FileFacts facts)
    {
        facts = new FileFacts(0, null);
        try
        {
            var info = new FileInfo(file.Path);
            // Looked at again here, not only taken from the intake: a file replaced by a link since it was found is a link.
            if (info.LinkTarget is { } target)
            {
                facts = new FileFacts(Links.Size(file.Path), Sha256: null);
                return new FileOutcome.Quarantined(file, facts, file.IsLink && file.Refusal is { } refusal ? refusal
                    : $"a symbolic link (to {target}): links in the inbox are never followed; the link itself is quarantined and its target left untouched",
                    InspectionMetrics.QuarantineKinds.Refused);
            }
            if (!info.Exists) return new FileOutcome.Vanished(file);
            facts = new FileFacts(info.Length, Sha256: null); // what the record says if the file cannot be read
            facts = facts with { Sha256 = facts.Size == 0 ? ImageMover.EmptySha256 : ImageMover.Sha256Hex(file.Path) };
            if (file.Refusal is { } reason)
                return new FileOutcome.Quarantined(file, facts, reason, InspectionMetrics.QuarantineKinds.Refused);
            if (facts.Size == 0)
                return new FileOutcome.Quarantined(file, facts, "zero-byte file", InspectionMetrics.QuarantineKinds.Empty);
            if (facts.Size > _options.MaxFileBytes)
                return new FileOutcome.Quarantined(file, facts, $"file too large: {facts.Size} bytes (Inspection:MaxFileBytes is {_options.MaxFileBytes})",
                    InspectionMetrics.QuarantineKinds.TooLarge);
            return null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new FileOutcome.Vanished(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new FileOutcome.Quarantined(file, facts, $"cannot read the file: {e.Message}", InspectionMetrics.QuarantineKinds.Unreadable);
        }
    }

    /// <summary>
    /// Scores the files that passed the checks, through the scorer's one path; a file it cannot score is quarantined
    /// with its reason, unless it has left the inbox meanwhile. A scorer that throws fails the whole batch.
    /// </summary>
    private static void Score(IReadOnlyList<InboxFile> batch, FileFacts[] facts, FileOutcome?[] outcomes, IImageScorer scorer, CancellationToken abort)
    {
        int[] waiting = Enumerable.Range(0, batch.Count).Where(i => outcomes[i] is null).ToArray();
        if (waiting.Length == 0) return;
        try
        {
            foreach (var result in scorer.ScoreFiles(waiting.Select(i => batch[i].Path).ToArray(), keepOriginals: true, abort))
            {
                int i = waiting[result.Index];
                var file = batch[i];
                if (result.Succeeded)
                {
                    outcomes[i] = new FileOutcome.Scored(file, facts[i], result);
                    continue;
                }
                result.Dispose();
                outcomes[i] = result.Missing || !File.Exists(file.Path)
                    ? new FileOutcome.Vanished(file)
                    : new FileOutcome.Quarantined(file, facts[i], result.Reason, InspectionMetrics.QuarantineKinds.Unscorable);
            }
        }
        catch
        {
            // Nothing of the batch is recorded: free the images of the results taken so far.
            foreach (var scored in outcomes.OfType<FileOutcome.Scored>()) scored.Dispose();
            throw;
        }
        // The scorer owes one result per file; a file it skipped is quarantined rather than taken again for ever.
        foreach (int i in waiting)
            outcomes[i] ??= new FileOutcome.Quarantined(batch[i], facts[i], "the scorer returned no result for this file", InspectionMetrics.QuarantineKinds.Unscorable);
    }

    private async Task<InspectionRecord> RecordAsync(FileOutcome outcome, BatchPart part, CancellationToken abort)
    {
        var bank = part.Bank;
        var scoredAt = part.ScoredAt;
        switch (outcome)
        {
            case FileOutcome.Quarantined quarantined:
            {
                var file = quarantined.File;
                string destination = Reserve(Verdict.Quarantined, file.Name, part, file.Product);
                _log.Quarantining(file.Refusal is null ? file.Name : Path.GetRelativePath(_layout.Inbox, file.Path), quarantined.Reason);
                return NewRecord(file, quarantined.Facts, destination, Verdict.Quarantined, bank, scoredAt) with { Reason = quarantined.Reason };
            }
            case FileOutcome.Scored scored:
            {
                // Scored means a bank looked at it, and a bank always has an ng threshold (BankKeeper refuses one without).
                if (bank is null) throw new UnreachableException($"{scored.File.Name} was scored without a bank.");
                var verdict = scored.Result.Verdict ?? throw new UnreachableException($"{scored.File.Name} was scored without a verdict.");
                string? product = scored.File.Product;
                string destination = Reserve(verdict, scored.File.Name, part, product);
                string name = Path.GetFileName(destination);
                string? heatmap = await WriteImageAsync("heatmap", scored, _layout.HeatmapPath(verdict, scoredAt, name, product),
                    path => bank.Scorer.WriteHeatmap(scored.Result, path), abort).ConfigureAwait(false);
                string? mask = await WriteImageAsync("defect mask", scored, _layout.MaskPath(verdict, scoredAt, name, product),
                    path => bank.Scorer.WriteDefectMask(scored.Result, path), abort).ConfigureAwait(false);
                return NewRecord(scored.File, scored.Facts, destination, verdict, bank, scoredAt) with
                {
                    Score = scored.Score,
                    Threshold = bank.Threshold,
                    ReviewThreshold = bank.Thresholds.Review,
                    PixelThreshold = bank.Thresholds.Pixel,
                    Regions = scored.Result.Regions,
                    Heatmap = heatmap,
                    Mask = mask,
                };
            }
            default:
                throw new UnreachableException($"No record is made for {outcome}.");
        }
    }

    private string Reserve(Verdict verdict, string name, BatchPart part, string? product)
    {
        lock (_reserved)
        {
            string destination = Layout.UniqueDestination(_layout.DestinationFolder(verdict, part.ScoredAt, product), name, _reserved);
            _reserved.Add(destination);
            part.Reserved.Add(destination);
            return destination;
        }
    }

    /// <param name="bank">The bank of the batch; an entry refused unscored gets none, as no bank looked at it.</param>
    private static InspectionRecord NewRecord(InboxFile file, FileFacts facts, string destination, Verdict verdict, ActiveBank? bank, DateTimeOffset scoredAt) => new()
    {
        // A submission's record keeps the id its sender was given when it was accepted.
        Id = file.Submission?.Id ?? Guid.CreateVersion7().ToString("N"),
        Path = destination,
        OriginalName = file.Name,
        InboxPath = file.Path,
        Sha256 = facts.Sha256,
        Size = facts.Size,
        Verdict = verdict,
        BankId = file.Refusal is null ? bank?.BankId : null,
        ReceivedAt = file.ReceivedAt,
        ScoredAt = scoredAt,
        Product = file.Product,
        Submission = file.Submission?.Origin,
    };

    /// <summary>
    /// A heatmap or mask PNG, written to a temporary name and renamed, so a crash never leaves half a PNG under the
    /// final name. Disk full and permission errors are retried; any other failure leaves the record without it.
    /// </summary>
    private async Task<string?> WriteImageAsync(string what, FileOutcome.Scored scored, string path, Action<string> write, CancellationToken abort)
    {
        string folder = Path.GetDirectoryName(path)!;
        string temp = Path.Combine(folder, "." + Path.GetFileNameWithoutExtension(path) + ".tmp.png");
        try
        {
            await _retry.RunAsync($"Writing {what} {path}", () =>
            {
                Directory.CreateDirectory(folder);
                write(temp);
                File.Move(temp, path, overwrite: true);
            }, abort).ConfigureAwait(false);
            return path;
        }
        catch (Exception e) when (e is not OperationCanceledException && !IoRetry.IsTransient(e))
        {
            Durable.TryDelete(temp);
            _status.ReportError(InspectionMetrics.ErrorTypes.Heatmap, $"The {what} of {scored.File.Name} failed: {e.Message}");
            _log.HeatmapFailed(e, what, scored.File.Name, e.Message);
            return null;
        }
    }

    private static void SyncFolders(IEnumerable<InspectionRecord> records)
    {
        foreach (string folder in records.Select(r => Path.GetDirectoryName(r.Path)!).Distinct(StringComparer.Ordinal))
            Durable.FsyncFolder(folder);
    }
}
