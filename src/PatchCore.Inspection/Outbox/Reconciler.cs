using Microsoft.Extensions.Logging;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Processing;

namespace PatchCore.Inspection.Outbox;

/// <summary>
/// Brings the outbox back to "every image has exactly one record and lies in exactly one place" after a crash:
/// cuts a torn last line off results.jsonl, finishes the moves of every record after the checkpoint, returns
/// staged files that have no record to the inbox, then advances the checkpoint.
/// </summary>
internal sealed class Reconciler
{
    private readonly Layout _layout;
    private readonly IResultLog _results;
    private readonly IImageMover _mover;
    private readonly IoRetry _retry;
    private readonly ILogger<Reconciler> _log;

    public Reconciler(Layout layout, IResultLog results, IImageMover mover, IoRetry retry, ILogger<Reconciler> log)
    {
        _layout = layout;
        _results = results;
        _mover = mover;
        _retry = retry;
        _log = log;
    }

    public async Task<int> RunAsync(CancellationToken abort)
    {
        long torn = await _retry.RunAsync("Repairing results.jsonl", _results.RepairTornTail, abort).ConfigureAwait(false);
        if (torn > 0)
            _log.TornTailCut(torn, _results.FilePath);

        long length = _results.Length;
        long offset = Checkpoint.Read(_layout.CheckpointFile);
        if (offset > length)
        {
            _log.CheckpointPastEnd(offset, _results.FilePath, length);
            offset = 0;
        }

        var pending = _results.ReadFrom(offset, line => _log.NotARecord(_results.FilePath, line)).ToList();
        var pendingIds = new HashSet<string>(StringComparer.Ordinal);
        int finished = 0;
        foreach (var record in pending)
        {
            pendingIds.Add(record.Id);
            var outcome = await _retry.RunAsync($"Finishing the move of {record.OriginalName}", () => _mover.Complete(record, sourceVerified: false), abort).ConfigureAwait(false);
            switch (outcome)
            {
                case MoveOutcome.Moved:
                    finished++;
                    _log.Recovered(record.OriginalName, record.Id, record.Path);
                    break;
                case MoveOutcome.Vanished:
                    _log.RecordWithoutImage(record.Id, record.OriginalName, record.Path);
                    break;
            }
        }

        await _retry.RunAsync("Returning unrecorded staged files", () => ReturnOrphans(pendingIds), abort).ConfigureAwait(false);
        await _retry.RunAsync("Writing the checkpoint", () => Checkpoint.Write(_layout.CheckpointFile, length), abort).ConfigureAwait(false);
        if (pending.Count > 0)
            _log.Reconciled(pending.Count, finished);
        return finished;
    }

    /// <summary>A staged file is always preceded by its durable record, so one without a record should not exist; it is scored again rather than lost.</summary>
    private void ReturnOrphans(HashSet<string> pendingIds)
    {
        if (!Directory.Exists(_layout.StagingFolder)) return;
        // Entries, not files: a quarantined link to a folder is staged too, and Directory.EnumerateFiles does not list it.
        foreach (string file in Directory.EnumerateFileSystemEntries(_layout.StagingFolder))
        {
            if (pendingIds.Contains(Path.GetFileNameWithoutExtension(file))) continue;
            if (Directory.Exists(file) && !Links.IsLink(file)) continue; // the daemon never stages a folder
            string back = Layout.UniqueDestination(_layout.Inbox, "recovered-" + Path.GetFileName(file), new HashSet<string>());
            ImageMover.MoveEntry(file, back);
            _log.OrphanReturned(file, back);
        }
    }
}
