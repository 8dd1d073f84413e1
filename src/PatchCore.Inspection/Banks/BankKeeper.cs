using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PatchCore.Core;
using PatchCore.Inspection.Observability;

namespace PatchCore.Inspection.Banks;

/// <summary>
/// Owns the scorer. Watches the bank file (watcher plus polling of size and mtime); when it is replaced, loads
/// the new bank on a background task and offers it to the worker, which switches between batches. A bank that
/// fails to load, or has no threshold while none is configured, is refused with a logged reason and the old one
/// stays. Only the worker thread touches <see cref="Current"/>.
/// </summary>
public sealed class BankKeeper : IDisposable
{
    private readonly string _bankPath;
    private readonly IBankLoader _loader;
    private readonly TimeSpan _pollInterval;
    private readonly DaemonStatus _status;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _changed = new(0, int.MaxValue);
    private (long Length, DateTime Mtime)? _lastSeen;
    private ActiveBank? _pending;
    private FileSystemWatcher? _watcher;

    public BankKeeper(string bankPath, IBankLoader loader, TimeSpan pollInterval,
        DaemonStatus status, ILogger<BankKeeper> log)
    {
        _bankPath = bankPath;
        _loader = loader;
        _pollInterval = pollInterval;
        _status = status;
        _log = log;
    }

    public ActiveBank Current { get; private set; } = null!;

    /// <summary>Loads the bank at start. Throws <see cref="PatchCoreException"/> naming the file and the problem.</summary>
    public void LoadInitial()
    {
        _lastSeen = Stamp();
        Current = Load();
        _status.BankId = Current.BankId;
        _log.BankLoaded(_bankPath, Current.BankId, Current.Threshold, Current.Thresholds.Review, Current.Thresholds.Pixel);
    }

    /// <summary>Called by the worker between batches: switches to a newly loaded bank, if any, and disposes the old one.</summary>
    public bool SwitchIfReplaced()
    {
        var next = Interlocked.Exchange(ref _pending, null);
        if (next is null) return false;
        var old = Current;
        Current = next;
        _status.BankId = next.BankId;
        old.Scorer.Dispose();
        _log.BankSwitched(old.BankId, next.BankId, next.Threshold);
        return true;
    }

    public async Task WatchAsync(CancellationToken stop)
    {
        StartWatcher();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await _changed.WaitAsync(_pollInterval, stop).ConfigureAwait(false);
                var stamp = Stamp();
                if (stamp is null || stamp == _lastSeen) continue;

                // The builder renames a complete file into place; waiting for a stable stamp also covers a copy in place.
                await Task.Delay(TimeSpan.FromMilliseconds(300), stop).ConfigureAwait(false);
                if (Stamp() != stamp) continue;
                _lastSeen = stamp;
                TryLoadReplacement();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            _watcher?.Dispose();
        }
    }

    private void TryLoadReplacement()
    {
        var started = Stopwatch.GetTimestamp();
        ActiveBank loaded;
        try
        {
            loaded = Load();
        }
        catch (Exception e) when (e is PatchCoreException or IOException or UnauthorizedAccessException)
        {
            _status.ReportError(InspectionMetrics.ErrorTypes.Bank, $"Refused the new bank at {_bankPath}: {e.Message}; keeping bank {Current.BankId}");
            _log.BankRefused(e, _bankPath, e.Message, Current.BankId);
            return;
        }
        if (loaded.BankId == Current.BankId && _pending is null)
        {
            loaded.Scorer.Dispose();
            _log.BankUnchanged(_bankPath, loaded.BankId);
            return;
        }
        _log.BankReplacementLoaded(loaded.BankId, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        Interlocked.Exchange(ref _pending, loaded)?.Scorer.Dispose();
    }

    private ActiveBank Load()
    {
        var scorer = _loader.Load(_bankPath);
        if (scorer.Thresholds.Ng is not double threshold || !double.IsFinite(threshold))
        {
            scorer.Dispose();
            throw new PatchCoreException($"{_bankPath}: the bank has no calibrated threshold and Inspection:Threshold is not set.");
        }
        return new ActiveBank(scorer);
    }

    private (long, DateTime)? Stamp()
    {
        var info = new FileInfo(_bankPath);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : null;
    }

    private void StartWatcher()
    {
        string folder = Path.GetDirectoryName(_bankPath)!;
        _watcher = new FileSystemWatcher(folder, Path.GetFileName(_bankPath))
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        FileSystemEventHandler poke = (_, _) => _changed.Release();
        _watcher.Created += poke;
        _watcher.Changed += poke;
        _watcher.Renamed += (_, _) => _changed.Release();
        _watcher.EnableRaisingEvents = true;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        Interlocked.Exchange(ref _pending, null)?.Scorer.Dispose();
        Current?.Scorer.Dispose();
        _changed.Dispose();
    }
}
