using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PatchCore.Inspection.Observability;

namespace PatchCore.Inspection.Intake;

/// <summary>
/// Finds complete files in the inbox and hands them out through a bounded channel. Sources: a FileSystemWatcher,
/// a scan at start, and a periodic rescan (inotify can overflow, network shares can miss events). A file is
/// complete when its writer renamed it into the inbox, or when its size and mtime have not changed for SettleMs.
/// A file stays claimed from hand-out until <see cref="Release"/>, so no rescan hands it out twice.
/// Only paths are held here (never decoded images), and the channel holds at most a few batches of them.
/// </summary>
public sealed class InboxIntake : IDisposable
{
    private sealed class Candidate(string path, DateTimeOffset firstSeen, bool renamed)
    {
        public string Path { get; } = path;
        public DateTimeOffset FirstSeen { get; } = firstSeen;
        public bool Renamed { get; set; } = renamed;
        public bool Claimed { get; set; }
        public (long Length, DateTime Mtime)? Stamp { get; set; }
        public long StableSince { get; set; }
    }

    private readonly string _inbox;
    private readonly TimeSpan _settle;
    private readonly TimeSpan _rescanInterval;
    private readonly ILogger _log;
    private readonly Channel<InboxFile> _ready;
    private readonly Dictionary<string, Candidate> _candidates = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private FileSystemWatcher? _watcher;
    private volatile bool _rescanRequested = true;

    public InboxIntake(string inbox, TimeSpan settle, TimeSpan rescanInterval, int capacity, ILogger<InboxIntake> log)
    {
        _inbox = inbox;
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
                await Task.Delay(tick, stop).ConfigureAwait(false);
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
            IncludeSubdirectories = false,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
            InternalBufferSize = 64 * 1024,
        };
        _watcher.Created += (_, e) => Seen(e.FullPath, renamed: false);
        _watcher.Changed += (_, e) => Seen(e.FullPath, renamed: false);
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

    private void Seen(string path, bool renamed)
    {
        if (InboxNames.IsIgnored(Path.GetFileName(path))) return;
        lock (_lock)
        {
            if (_candidates.TryGetValue(path, out var known))
            {
                if (renamed && !known.Claimed) known.Renamed = true;
                return;
            }
            _candidates[path] = new Candidate(path, DateTimeOffset.UtcNow, renamed);
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
        try
        {
            foreach (string path in Directory.EnumerateFiles(_inbox))
                Seen(path, renamed: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.InboxUnreadable(e, _inbox, e.Message);
        }
    }

    private void HandOutSettled()
    {
        Candidate[] waiting;
        lock (_lock)
            waiting = _candidates.Values.Where(c => !c.Claimed).OrderBy(c => c.FirstSeen).ToArray();

        foreach (var candidate in waiting)
        {
            var info = new FileInfo(candidate.Path);
            if (!info.Exists)
            {
                Forget(candidate.Path);
                continue;
            }
            var stamp = (info.Length, info.LastWriteTimeUtc);
            if (candidate.Stamp != stamp)
            {
                candidate.Stamp = stamp;
                candidate.StableSince = Stopwatch.GetTimestamp();
            }
            bool complete = candidate.Renamed || Stopwatch.GetElapsedTime(candidate.StableSince) >= _settle;
            if (!complete) continue;

            lock (_lock)
            {
                if (!_candidates.TryGetValue(candidate.Path, out var current) || !ReferenceEquals(current, candidate)) continue;
                if (!_ready.Writer.TryWrite(new InboxFile(candidate.Path, Path.GetFileName(candidate.Path), candidate.FirstSeen)))
                    return; // channel full: the rest waits for the next tick
                candidate.Claimed = true;
            }
        }
    }

    public void Dispose() => StopWatcher();
}
