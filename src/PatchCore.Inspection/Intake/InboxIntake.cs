using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PatchCore.Inspection.Observability;

namespace PatchCore.Inspection.Intake;

/// <summary>
/// Finds complete entries in the inbox (its product folders and whatever else it holds, as <see cref="InboxRouter"/>
/// decides) and hands them out through a bounded channel. Sources: a FileSystemWatcher over the whole tree, a walk at
/// start, and a periodic walk (inotify can overflow, network shares can miss events, a folder moved in brings files no
/// event names). A file is complete when its writer renamed it into place, or when its size and mtime have not
/// changed for SettleMs; a symbolic link is complete at once (it is made in one step).
/// A file stays claimed from hand-out until <see cref="Release"/>, so no rescan hands it out twice.
/// Only paths are held here (never decoded images), and the channel holds at most a few batches of them.
/// </summary>
internal sealed class InboxIntake : IDisposable
{
    private sealed class Candidate(InboxEntry entry, DateTimeOffset firstSeen, bool renamed)
    {
        public InboxEntry Entry { get; } = entry;
        public string Path => Entry.Path;
        public DateTimeOffset FirstSeen { get; } = firstSeen;
        public bool Renamed { get; set; } = renamed;
        public bool Claimed { get; set; }
        public (long Length, DateTime Mtime)? Stamp { get; set; }
        public long StableSince { get; set; }
    }

    private readonly string _inbox;
    private readonly InboxRouter _router;
    private readonly TimeSpan _settle;
    private readonly TimeSpan _rescanInterval;
    private readonly ILogger _log;
    private readonly Channel<InboxFile> _ready;
    private readonly Dictionary<string, Candidate> _candidates = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private FileSystemWatcher? _watcher;
    private volatile bool _rescanRequested = true;

    public InboxIntake(string inbox, InboxRouter router, TimeSpan settle, TimeSpan rescanInterval, int capacity, ILogger<InboxIntake> log)
    {
        _inbox = inbox;
        _router = router;
        _settle = settle;
        _rescanInterval = rescanInterval;
        _log = log;
        _ready = Channel.CreateBounded<InboxFile>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public ChannelReader<InboxFile> Ready => _ready.Reader;

    /// <summary>Files seen and not yet finished (waiting to settle, queued, or being inspected).</summary>
    public int Backlog
    {
        get { lock (_lock) return _candidates.Count; }
    }

    /// <summary>
    /// A file the daemon itself has just renamed into the inbox (a submission, <see cref="ImageSubmissions"/>): taken as
    /// complete at once and handed out on the next pass, which starts now rather than at the next tick, so a submission
    /// waits for its batch only. The watcher's own event for the rename finds the file already known.
    /// </summary>
    public void Announce(string path)
    {
        var entry = _router.Classify(path, out _);
        if (entry is not { } found) return;
        Seen(found, renamed: true);
        if (_wake.CurrentCount == 0)
        {
            try { _wake.Release(); }
            catch (SemaphoreFullException) { } // another announcement woke the loop already
        }
    }

    /// <summary>The file has left the inbox, or was handed back untouched: forget it (a rescan finds it again if it is still there).</summary>
    public void Release(string path)
    {
        lock (_lock) _candidates.Remove(path);
    }

    public async Task RunAsync(CancellationToken stop)
    {
        StartWatcher();
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(_settle.TotalMilliseconds / 4, 25, 500));
        long lastRescan = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (_rescanRequested || Stopwatch.GetElapsedTime(lastRescan) >= _rescanInterval)
                {
                    _rescanRequested = false;
                    lastRescan = Stopwatch.GetTimestamp();
                    Rescan();
                }
                HandOutSettled();
                await _wake.WaitAsync(tick, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            _ready.Writer.TryComplete();
            StopWatcher();
        }
    }

    private void StartWatcher()
    {
        _watcher = new FileSystemWatcher(_inbox)
        {
            // The whole tree: product folders, and any other folder whose files must be quarantined.
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
            InternalBufferSize = 64 * 1024,
        };
        _watcher.Created += (_, e) => Seen(e.FullPath, renamed: false);
        // A folder's own change (a file added in it) says nothing its files' events do not: no walk for it.
        _watcher.Changed += (_, e) => Seen(e.FullPath, renamed: false, walkFolders: false);
        _watcher.Renamed += (_, e) =>
        {
            Forget(e.OldFullPath);
            Seen(e.FullPath, renamed: true);
        };
        _watcher.Error += (_, e) =>
        {
            _log.InboxWatcherError(e.GetException(), e.GetException().Message, _inbox);
            _rescanRequested = true;
        };
        _watcher.EnableRaisingEvents = true;
    }

    private void StopWatcher()
    {
        if (_watcher is null) return;
        _watcher.EnableRaisingEvents = false;
        _watcher.Dispose();
        _watcher = null;
    }

    /// <summary>A watcher event: the router says what the path is; a folder (moved in with its files) asks for a walk.</summary>
    private void Seen(string path, bool renamed, bool walkFolders = true)
    {
        var entry = _router.Classify(path, out bool rescan);
        if (rescan && walkFolders) _rescanRequested = true;
        if (entry is { } found) Seen(found, renamed);
    }

    private void Seen(InboxEntry entry, bool renamed)
    {
        renamed |= entry.IsLink; // a link is made in one step: nothing to wait for
        lock (_lock)
        {
            if (_candidates.TryGetValue(entry.Path, out var known))
            {
                if (renamed && !known.Claimed) known.Renamed = true;
                return;
            }
            _candidates[entry.Path] = new Candidate(entry, DateTimeOffset.UtcNow, renamed);
        }
    }

    private void Forget(string path)
    {
        lock (_lock)
        {
            if (_candidates.TryGetValue(path, out var known) && !known.Claimed) _candidates.Remove(path);
        }
    }

    private void Rescan()
    {
        foreach (var entry in _router.Walk((folder, e) => _log.InboxUnreadable(e, folder, e.Message)))
            Seen(entry, renamed: false);
    }

    private void HandOutSettled()
    {
        Candidate[] waiting;
        lock (_lock)
            waiting = _candidates.Values.Where(c => !c.Claimed).OrderBy(c => c.FirstSeen).ToArray();

        foreach (var candidate in waiting)
        {
            var info = new FileInfo(candidate.Path);
            // Gone, or no longer what it was seen as (a file replaced by a link or the other way): forget it, and the
            // next walk takes whatever is there now for what it is.
            bool isLink = info.LinkTarget is not null;
            if (isLink != candidate.Entry.IsLink || (!isLink && !info.Exists))
            {
                Forget(candidate.Path);
                continue;
            }
            if (!isLink)
            {
                var stamp = (info.Length, info.LastWriteTimeUtc);
                if (candidate.Stamp != stamp)
                {
                    candidate.Stamp = stamp;
                    candidate.StableSince = Stopwatch.GetTimestamp();
                }
            }
            bool complete = candidate.Renamed || Stopwatch.GetElapsedTime(candidate.StableSince) >= _settle;
            if (!complete) continue;

            lock (_lock)
            {
                if (!_candidates.TryGetValue(candidate.Path, out var current) || !ReferenceEquals(current, candidate)) continue;
                var file = new InboxFile(candidate.Path, Path.GetFileName(candidate.Path), candidate.FirstSeen)
                {
                    Product = candidate.Entry.Product,
                    Refusal = candidate.Entry.Refusal,
                    IsLink = candidate.Entry.IsLink,
                };
                if (!_ready.Writer.TryWrite(file))
                    return; // channel full: the rest waits for the next tick
                candidate.Claimed = true;
            }
        }
    }

    public void Dispose()
    {
        StopWatcher();
        _wake.Dispose();
    }
}
