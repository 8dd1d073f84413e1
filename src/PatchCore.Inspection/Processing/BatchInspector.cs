using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PatchCore.Core;
using PatchCore.Core.Imaging;
using PatchCore.Core.Scoring;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Processing;

/// <summary>
/// Inspects one batch, in the order that makes a crash at any point recoverable:
/// check and hash each file, decode (bounded parallelism), score together, write heatmaps, append and fsync
/// all records, then move each image out of the inbox, then advance the checkpoint.
/// </summary>
public sealed class BatchInspector
{
    private sealed class Item(InboxFile file)
    {
        public InboxFile File { get; } = file;
        public long Size { get; set; }
        public string? Sha256 { get; set; }
        public ScoredFile? Scored { get; set; }
        public string? Problem { get; set; }
        public bool Vanished { get; set; }
    }

    private readonly InspectionOptions _options;
    private readonly Layout _layout;
    private readonly ResultLog _results;
    private readonly ImageMover _mover;
    private readonly IoRetry _retry;
    private readonly InspectionStats _stats;
    private readonly ILogger<BatchInspector> _log;

    public BatchInspector(InspectionOptions options, Layout layout, ResultLog results, ImageMover mover, IoRetry retry,
        InspectionStats stats, ILogger<BatchInspector> log)
    {
        _options = options;
        _layout = layout;
        _results = results;
        _mover = mover;
        _retry = retry;
        _stats = stats;
        _log = log;
    }

    /// <summary>Inspects the batch; every file it returns is finished (recorded and moved, or vanished).</summary>
    /// <param name="abort">Cancelled only at the shutdown deadline; the restart's reconciliation then finishes the batch.</param>
    public async Task ProcessAsync(IReadOnlyList<InboxFile> batch, ActiveBank bank, CancellationToken abort)
    {
        var started = Stopwatch.GetTimestamp();
        var items = batch.Select(f => new Item(f)).ToArray();

        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = _options.DecodeParallelism },
            (item, _) =>
            {
                Prepare(item);
                return ValueTask.CompletedTask;
            }).ConfigureAwait(false);

        Score(items.Where(i => !i.Vanished && i.Problem is null).ToArray(), bank.Detector);
        var scoredAt = DateTimeOffset.UtcNow;

        var reserved = new HashSet<string>(StringComparer.Ordinal);
        var records = new List<InspectionRecord>();
        try
        {
            foreach (var item in items.Where(i => !i.Vanished))
                records.Add(await BuildRecordAsync(item, bank, scoredAt, reserved, abort).ConfigureAwait(false));
        }
        finally
        {
            // Decoded pixels (and the originals kept for overlays) are not needed past the heatmaps.
            foreach (var item in items)
            {
                item.Scored?.Dispose();
                item.Scored = null;
            }
        }

        if (records.Count > 0)
        {
            long end = await _retry.RunAsync("Appending to results.jsonl", () => _results.Append(records), abort).ConfigureAwait(false);
            foreach (var record in records)
            {
                var outcome = await _retry.RunAsync($"Moving {record.OriginalName} to {record.Path}", () => _mover.Complete(record, sourceVerified: true), abort).ConfigureAwait(false);
                if (outcome == MoveOutcome.Vanished)
                    _log.LogWarning("{Name} disappeared from the inbox after it was scored; its record {Id} stays", record.OriginalName, record.Id);
                _stats.Count(ParseVerdict(record.Verdict));
            }
            await _retry.RunAsync("Syncing outbox folders", () => SyncFolders(records), abort).ConfigureAwait(false);
            await _retry.RunAsync("Writing the checkpoint", () => Checkpoint.Write(_layout.CheckpointFile, end), abort).ConfigureAwait(false);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        _stats.AddBatch(items.Length, elapsed);
        _log.LogDebug("Batch of {Count} done in {Ms:F0} ms", items.Length, elapsed.TotalMilliseconds);
    }

    /// <summary>Size checks, content hash and decode. Any problem with the file becomes a quarantine reason, never an exception.</summary>
    private void Prepare(Item item)
    {
        string path = item.File.Path;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                item.Vanished = true;
                return;
            }
            item.Size = info.Length;
            item.Sha256 = ImageMover.Sha256Hex(path);
            if (item.Size == 0)
            {
                item.Problem = "zero-byte file";
                return;
            }
            if (item.Size > _options.MaxFileBytes)
            {
                item.Problem = $"file too large: {item.Size} bytes (Inspection:MaxFileBytes is {_options.MaxFileBytes})";
                return;
            }
        }
        catch (FileNotFoundException)
        {
            item.Vanished = true;
        }
        catch (ImageLoadException e)
        {
            if (File.Exists(path)) item.Problem = e.Reason;
            else item.Vanished = true;
        }
        catch (PatchCoreException e)
        {
            item.Problem = e.Message;
        }
        catch (UnauthorizedAccessException e)
        {
            item.Problem = $"cannot read the file: {e.Message}";
        }
        catch (IOException e)
        {
            item.Problem = $"cannot read the file: {e.Message}";
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A decoder bug on one hostile file must not stop the line.
            item.Problem = $"cannot decode ({e.GetType().Name}): {e.Message}";
        }
    }

    /// <summary>Decodes and scores the checked files through the detector's one path; a file it cannot score is quarantined with the reason.</summary>
    private static void Score(Item[] items, IImageScorer detector)
    {
        if (items.Length == 0) return;
        foreach (var scored in detector.ScoreFiles(items.Select(i => i.File.Path).ToArray(), keepOriginals: true))
        {
            var item = items[scored.Index];
            if (scored.Succeeded)
            {
                item.Scored = scored;
                continue;
            }
            scored.Dispose();
            if (File.Exists(item.File.Path)) item.Problem = scored.Reason;
            else item.Vanished = true;
        }
    }

    private async Task<InspectionRecord> BuildRecordAsync(Item item, ActiveBank bank, DateTimeOffset scoredAt, HashSet<string> reserved, CancellationToken abort)
    {
        string id = Guid.CreateVersion7().ToString("N");
        if (item.Problem is not null || item.Scored is null)
        {
            string reason = item.Problem ?? "not scored";
            string destination = Layout.UniqueDestination(_layout.DestinationFolder(Verdict.Quarantined, scoredAt), item.File.Name, reserved);
            reserved.Add(destination);
            _log.LogWarning("Quarantining {Name}: {Reason}", item.File.Name, reason);
            return NewRecord(item, id, destination, Verdict.Quarantined, bank, scoredAt) with { Reason = reason, Score = null, Threshold = null };
        }

        double score = item.Scored.Detection!.Score;
        var verdict = score >= bank.Threshold ? Verdict.Ng : Verdict.Ok;
        string dest = Layout.UniqueDestination(_layout.DestinationFolder(verdict, scoredAt), item.File.Name, reserved);
        reserved.Add(dest);
        string heatmap = _layout.HeatmapPath(verdict, scoredAt, Path.GetFileName(dest));
        string? written = await WriteHeatmapAsync(item, bank.Detector, bank.Threshold, heatmap, abort).ConfigureAwait(false);
        return NewRecord(item, id, dest, verdict, bank, scoredAt) with { Score = score, Threshold = bank.Threshold, Heatmap = written };
    }

    private InspectionRecord NewRecord(Item item, string id, string destination, Verdict verdict, ActiveBank bank, DateTimeOffset scoredAt) => new()
    {
        Id = id,
        Path = destination,
        OriginalName = item.File.Name,
        InboxPath = item.File.Path,
        Sha256 = item.Sha256,
        Size = item.Size,
        Verdict = InspectionRecord.VerdictText(verdict),
        BankId = bank.BankId,
        ReceivedAt = item.File.ReceivedAt,
        ScoredAt = scoredAt,
    };

    /// <summary>Written to a temporary name and renamed, so a crash never leaves half a PNG under the final name.</summary>
    private async Task<string?> WriteHeatmapAsync(Item item, IImageScorer detector, double threshold, string path, CancellationToken abort)
    {
        string folder = Path.GetDirectoryName(path)!;
        string temp = Path.Combine(folder, "." + Path.GetFileNameWithoutExtension(path) + ".tmp.png");
        try
        {
            await _retry.RunAsync($"Writing heatmap {path}", () =>
            {
                Directory.CreateDirectory(folder);
                detector.WriteHeatmap(item.Scored!, temp, threshold);
                File.Move(temp, path, overwrite: true);
            }, abort).ConfigureAwait(false);
            return path;
        }
        catch (Exception e) when (e is not OperationCanceledException && !IoRetry.IsTransient(e))
        {
            Durable.TryDelete(temp);
            _stats.Error($"Heatmap of {item.File.Name} failed: {e.Message}");
            _log.LogError(e, "Heatmap of {Name} failed: {Error}; the record goes without one", item.File.Name, e.Message);
            return null;
        }
    }

    private static void SyncFolders(IEnumerable<InspectionRecord> records)
    {
        foreach (string folder in records.Select(r => Path.GetDirectoryName(r.Path)!).Distinct(StringComparer.Ordinal))
            Durable.FsyncFolder(folder);
    }

    private static Verdict ParseVerdict(string text) => text switch
    {
        "ok" => Verdict.Ok,
        "ng" => Verdict.Ng,
        _ => Verdict.Quarantined,
    };
}
