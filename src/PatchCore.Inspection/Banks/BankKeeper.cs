using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PatchCore.Core;
using PatchCore.Inspection.Observability;

namespace PatchCore.Inspection.Banks;

/// <summary>A loaded bank and the threshold its verdicts use.</summary>
public sealed record ActiveBank(PatchCoreDetector Detector, double Threshold)
{
    public string BankId => Detector.BankId;
}

/// <summary>
/// Owns the detector. Watches the bank file (watcher plus polling of size and mtime); when it is replaced, loads
/// the new bank on a background task and offers it to the worker, which switches between batches. A bank that
/// fails to load, or has no threshold while none is configured, is refused with a logged reason and the old one
/// stays. Only the worker thread touches <see cref="Current"/>.
/// </summary>
public sealed class BankKeeper : IDisposable
{
    private readonly string _bankPath;
    private readonly DetectorOptions _detectorOptions;
    private readonly double? _configuredThreshold;
    private readonly TimeSpan _pollInterval;
    private readonly InspectionStats _stats;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _changed = new(0, int.MaxValue);
    private (long Length, DateTime Mtime)? _lastSeen;
    private ActiveBank? _pending;
    private FileSystemWatcher? _watcher;

    public BankKeeper(string bankPath, DetectorOptions detectorOptions, double? configuredThreshold, TimeSpan pollInterval,
        InspectionStats stats, ILogger<BankKeeper> log)
    {
        _bankPath = bankPath;
        _detectorOptions = detectorOptions;
        _configuredThreshold = configuredThreshold;
        _pollInterval = pollInterval;
        _stats = stats;
        _log = log;
    }

    public ActiveBank Current { get; private set; } = null!;

    /// <summary>Loads the bank at start. Throws <see cref="PatchCoreException"/> naming the file and the problem.</summary>
    public void LoadInitial()
    {
        _lastSeen = Stamp();
        Current = Load();
        _stats.BankId = Current.BankId;
        _log.LogInformation("Bank {Bank} loaded: id {BankId}, threshold {Threshold} ({ThresholdSource})",
            _bankPath, Current.BankId, Current.Threshold, _configuredThreshold is null ? "from the bank" : "from the configuration");
    }

    /// <summary>Called by the worker between batches: switches to a newly loaded bank, if any, and disposes the old one.</summary>
    public bool SwitchIfReplaced()
    {
        var next = Interlocked.Exchange(ref _pending, null);
        if (next is null) return false;
        var old = Current;
        Current = next;
        _stats.BankId = next.BankId;
        old.Detector.Dispose();
        _log.LogInformation("Switched bank: {OldId} -> {NewId} (threshold {Threshold})", old.BankId, next.BankId, next.Threshold);
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
            string message = $"Refused the new bank at {_bankPath}: {e.Message}; keeping bank {Current.BankId}";
            _stats.Error(message);
            _log.LogError(e, "Refused the new bank at {Bank}: {Reason}; keeping bank {BankId}", _bankPath, e.Message, Current.BankId);
            return;
        }
        if (loaded.BankId == Current.BankId && _pending is null)
        {
            loaded.Detector.Dispose();
            _log.LogInformation("Bank file {Bank} was rewritten with the same content (id {BankId}); nothing to switch", _bankPath, loaded.BankId);
            return;
        }
        _log.LogInformation("New bank {BankId} loaded in {Ms:F0} ms; switching after the batch in flight", loaded.BankId, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        Interlocked.Exchange(ref _pending, loaded)?.Detector.Dispose();
    }

    private ActiveBank Load()
    {
        var detector = PatchCoreDetector.Load(_bankPath, _detectorOptions);
        double? threshold = _configuredThreshold ?? detector.Threshold;
        if (threshold is null || !double.IsFinite(threshold.Value))
        {
            detector.Dispose();
            throw new PatchCoreException($"{_bankPath}: the bank has no calibrated threshold and Inspection:Threshold is not set.");
        }
        return new ActiveBank(detector, threshold.Value);
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
        Interlocked.Exchange(ref _pending, null)?.Detector.Dispose();
        Current?.Detector.Dispose();
        _changed.Dispose();
    }
}
