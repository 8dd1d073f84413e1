using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PatchCore.Core;
using PatchCore.Core.MemoryBank;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Banks;

/// <summary>
/// Owns every product's scorer. At start each product's bank is loaded once to prove it usable (a bad one stops the
/// start, naming the product and the file). While running it watches each bank file (watcher plus polling of size and
/// mtime): a replaced file is loaded on a background task and switched to between batches, product by product; a
/// bank that fails to load, or has no threshold while none is configured, is refused with a logged reason and the old
/// one stays, for that product only. With <c>Inspection:BankMemoryBudgetMb</c> banks are loaded on first use and the
/// least recently used unloaded to stay in the budget (<see cref="BankMemoryPolicy"/>), never one leased to the batch
/// in flight; the loads and unloads happen on the worker's thread only, between batches.
/// </summary>
internal sealed class BankKeeper : IDisposable
{
    private readonly ProductBank[] _banks;
    private readonly Dictionary<string, ProductBank> _byName;
    private readonly IBankLoader _loader;
    private readonly long? _budget;
    private readonly TimeSpan _pollInterval;
    private readonly DaemonStatus _status;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _changed = new(0, int.MaxValue);
    private readonly List<FileSystemWatcher> _watchers = [];

    public BankKeeper(ProductCatalog products, Layout layout, InspectionOptions options, IBankLoader loader,
        DaemonStatus status, ILogger<BankKeeper> log)
    {
        _budget = options.BankMemoryBudgetMb is { } mb ? mb * (1L << 20) : null;
        string? copies = _budget is null ? null : layout.BankCopyFolder;
        _banks = products.All.Select(p => new ProductBank(p, new BankSource(p, copies))).ToArray();
        _byName = _banks.ToDictionary(b => b.Name, StringComparer.Ordinal);
        _loader = loader;
        _pollInterval = TimeSpan.FromMilliseconds(options.BankPollIntervalMs);
        _status = status;
        _log = log;
    }

    public IReadOnlyList<string> Products => _banks.Select(b => b.Name).ToArray();

    /// <summary>Estimated bytes of the banks in memory now.</summary>
    public long LoadedBytes => _banks.Sum(b => b.Loaded is null ? 0 : b.CostBytes);

    public int LoadedCount => _banks.Count(b => b.Loaded is not null);

    public long? BudgetBytes => _budget;

    /// <summary>
    /// Loads every product's bank, one at a time, keeping as many loaded as the budget allows. Throws
    /// <see cref="PatchCoreException"/> naming the product, the file and the problem; then nothing stays loaded.
    /// </summary>
    public void LoadInitial()
    {
        try
        {
            long largest = 0;
            foreach (var bank in _banks)
            {
                // Room for a bank whose size is not known yet: as large as the largest so far (the banks of one station
                // are alike); once loaded its own estimate counts.
                if (_budget is { } budget) Unload(BankMemoryPolicy.ToUnload(_banks, largest, budget));
                bank.LastSeen = Stamp(bank.Source.LivePath);
                var loaded = LoadNew(bank);
                bank.Source.Accept();
                bank.Loaded = loaded;
                bank.BankId = loaded.BankId;
                bank.BankCreatedAt = loaded.CreatedAt;
                bank.CostBytes = _loader.MemoryBytes(loaded.Scorer);
                bank.Loads++;
                largest = Math.Max(largest, bank.CostBytes);
                _log.BankLoaded(bank.Name, bank.Source.LivePath, loaded.BankId, loaded.Threshold, loaded.Thresholds.Review, loaded.Thresholds.Pixel, Mb(bank.CostBytes));
            }
            if (_budget is { } limit) Unload(BankMemoryPolicy.ToUnload(_banks, 0, limit));
            ReturnFreedMemory(); // what loading left behind: the banks' files as read, and the banks checked and unloaded
        }
        catch
        {
            foreach (var bank in _banks)
            {
                bank.Loaded?.Scorer.Dispose();
                bank.Loaded = null;
            }
            throw;
        }
        _status.BankId = DefaultBankId;
        _log.ProductsServing(_banks.Length, string.Join(", ", _banks.Select(b => b.Name)), LoadedCount, Mb(LoadedBytes), BudgetText);
    }

    /// <summary>
    /// The bank of <paramref name="product"/> for one batch, loaded first if it was not (unloading the least recently
    /// used to stay in the budget); it stays loaded until the lease is disposed. Called by the worker between batches.
    /// </summary>
    /// <exception cref="PatchCoreException">The accepted bank cannot be loaded again (its copy was damaged).</exception>
    public BankLease Lease(string product)
    {
        var bank = _byName[product];
        lock (bank.Gate)
        {
            if (bank.Loaded is null) LoadOnDemand(bank);
            bank.Leases++;
            bank.LastUsed = Stopwatch.GetTimestamp();
            return new BankLease(bank.Loaded!, () =>
            {
                lock (bank.Gate) bank.Leases--;
            });
        }
    }

    /// <summary>True when <paramref name="product"/>'s bank is loaded (a lease then loads nothing, and unloads nothing).</summary>
    public bool IsLoaded(string product)
    {
        var bank = _byName[product];
        lock (bank.Gate) return bank.Loaded is not null;
    }

    /// <summary>True while a product's accepted replacement waits for its bank's leases to end (see <see cref="SwitchReplaced"/>).</summary>
    public bool SwitchWaiting => _banks.Any(b =>
    {
        lock (b.Gate) return b.Pending is not null;
    });

    /// <summary>
    /// Called by the worker between batches: switches every product with a newly loaded bank to it, and disposes the old
    /// one. Returns the switches, which the worker journals before the next batch.
    /// </summary>
    public IReadOnlyList<BankSwitchEntry> SwitchReplaced()
    {
        bool switched = false;
        var entries = new List<BankSwitchEntry>();
        foreach (var bank in _banks)
        {
            lock (bank.Gate)
            {
                var next = bank.Pending;
                if (next is null || bank.InUse) continue;
                bank.Pending = null;
                var old = bank.Loaded;
                bank.Loaded = next;
                bank.BankId = next.BankId;
                bank.BankCreatedAt = next.CreatedAt;
                bank.CostBytes = _loader.MemoryBytes(next.Scorer);
                old?.Scorer.Dispose();
                switched = true;
                _log.BankSwitched(bank.Name, old?.BankId ?? "(unloaded)", next.BankId, next.Threshold);
                entries.Add(new BankSwitchEntry
                {
                    Product = bank.Name, At = DateTimeOffset.UtcNow, FromBankId = old?.BankId, ToBankId = next.BankId,
                    Version = next.VersionFile, Threshold = next.Threshold, ReviewThreshold = next.Thresholds.Review,
                });
            }
        }
        _status.BankId = DefaultBankId;
        if (switched) ReturnFreedMemory();
        return entries;
    }

    /// <summary>What health.json says of each product's bank.</summary>
    public IReadOnlyList<ProductHealth> Snapshot() => _banks.Select(b => new ProductHealth(
        b.Name, b.Source.LivePath, b.BankId, b.Loaded is not null, Math.Round(Mb(b.CostBytes), 1), b.Loads,
        b.LastError?.At, b.LastError?.Message) { BankCreatedAt = b.BankCreatedAt }).ToArray();

    public async Task WatchAsync(CancellationToken stop)
    {
        StartWatchers();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await _changed.WaitAsync(_pollInterval, stop).ConfigureAwait(false);
                foreach (var bank in _banks)
                {
                    var stamp = Stamp(bank.Source.LivePath);
                    if (stamp is null || stamp == bank.LastSeen) continue;

                    // The builder renames a complete file into place; waiting for a stable stamp also covers a copy in place.
                    await Task.Delay(TimeSpan.FromMilliseconds(300), stop).ConfigureAwait(false);
                    if (Stamp(bank.Source.LivePath) != stamp) continue;
                    bank.LastSeen = stamp;
                    TryLoadReplacement(bank);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var watcher in _watchers) watcher.Dispose();
        }
    }

    private string? DefaultBankId => _byName.TryGetValue(Product.DefaultName, out var bank) ? bank.BankId : null;

    private string BudgetText => _budget is { } b ? $"{Mb(b):F0} MB" : "none";

    private void LoadOnDemand(ProductBank bank)
    {
        if (_budget is { } budget) Unload(BankMemoryPolicy.ToUnload(_banks.Where(b => b != bank), bank.CostBytes, budget));
        var started = Stopwatch.GetTimestamp();
        IImageScorer scorer;
        try
        {
            scorer = bank.Source.LoadAccepted(_loader, bank.Product.Options);
        }
        catch (PatchCoreException e)
        {
            string message = $"{bank.Product.MessagePrefix}{e.Message}";
            bank.LastError = new ProductBank.ErrorNote(DateTimeOffset.UtcNow, message);
            _status.ReportError(InspectionMetrics.ErrorTypes.Bank, message);
            throw new PatchCoreException(message, e);
        }
        bank.Loaded = new ActiveBank(scorer) { CreatedAt = _loader.CreatedAt(scorer) };
        bank.BankId = scorer.BankId;
        bank.BankCreatedAt = bank.Loaded.CreatedAt;
        bank.CostBytes = _loader.MemoryBytes(scorer);
        bank.Loads++;
        _status.BankId = DefaultBankId;
        _log.BankLoadedOnDemand(bank.Name, scorer.BankId, Stopwatch.GetElapsedTime(started).TotalMilliseconds, Mb(bank.CostBytes), Mb(LoadedBytes), BudgetText);
        if (_budget is { } limit && bank.CostBytes > limit) _log.BankOverBudget(bank.Name, Mb(bank.CostBytes), Mb(limit));
    }

    /// <summary>Unloads these banks (with any replacement waiting for them), skipping one in use, and gives their memory back.</summary>
    private void Unload(IEnumerable<ProductBank> banks)
    {
        bool any = false;
        foreach (var bank in banks)
        {
            lock (bank.Gate)
            {
                if (bank.InUse || bank.Loaded is not { } loaded) continue;
                // A waiting replacement was accepted already: it is the version that comes back on the next load.
                if (bank.Pending is { } pending)
                {
                    bank.BankId = pending.BankId;
                    bank.BankCreatedAt = pending.CreatedAt;
                    bank.Pending = null;
                    pending.Scorer.Dispose();
                }
                bank.Loaded = null;
                loaded.Scorer.Dispose();
                any = true;
                _log.BankUnloaded(bank.Name, loaded.BankId, Mb(bank.CostBytes), Mb(LoadedBytes), BudgetText);
            }
        }
        if (any) ReturnFreedMemory();
    }

    /// <summary>
    /// A bank's vectors and search structures are managed arrays on the large object heap: disposing the detector
    /// makes them garbage, but the GC keeps that memory committed until some later full collection, so an unloaded
    /// bank would still count in the process's resident memory and the budget would bound nothing. This collects at
    /// once, compacting and decommitting (<see cref="GCCollectionMode.Aggressive"/>). It runs only where a bank was
    /// just freed (start, a switch, an unload, a replacement checked while unloaded), between batches.
    /// </summary>
    private static void ReturnFreedMemory() =>
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    private void TryLoadReplacement(ProductBank bank)
    {
        var started = Stopwatch.GetTimestamp();
        ActiveBank loaded;
        try
        {
            loaded = LoadNew(bank);
        }
        catch (PatchCoreException e)
        {
            string keeping = bank.BankId ?? "(none)";
            string message = $"{bank.Product.MessagePrefix}Refused the new bank at {bank.Source.LivePath}: {e.Message}; keeping bank {keeping}";
            bank.LastError = new ProductBank.ErrorNote(DateTimeOffset.UtcNow, message);
            _status.ReportError(InspectionMetrics.ErrorTypes.Bank, message);
            _log.BankRefused(e, bank.Name, bank.Source.LivePath, e.Message, keeping);
            return;
        }
        lock (bank.Gate)
        {
            if (loaded.BankId == bank.BankId && bank.Pending is null)
            {
                bank.Source.Reject();
                loaded.Scorer.Dispose();
                _log.BankUnchanged(bank.Name, bank.Source.LivePath, loaded.BankId);
                return;
            }
            bank.Source.Accept();
            bank.Loads++;
            if (bank.Loaded is not null)
            {
                _log.BankReplacementLoaded(bank.Name, loaded.BankId, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                var superseded = bank.Pending;
                bank.Pending = loaded;
                superseded?.Scorer.Dispose();
                return;
            }
            // Unloaded to stay in the budget: the new bank is accepted now and loaded when an image needs it.
            bank.BankId = loaded.BankId;
            bank.BankCreatedAt = loaded.CreatedAt;
            bank.CostBytes = _loader.MemoryBytes(loaded.Scorer);
            loaded.Scorer.Dispose();
            _log.BankReplacementAccepted(bank.Name, loaded.BankId);
        }
        _status.BankId = DefaultBankId;
        ReturnFreedMemory();
    }

    /// <summary>
    /// Loads the version now in the product's bank file and checks it has an ng threshold. Errors are
    /// <see cref="PatchCoreException"/>s that name the product (unless it is the default one) and the file.
    /// </summary>
    private ActiveBank LoadNew(ProductBank bank)
    {
        var product = bank.Product;
        string? versionFile = VersionFileOf(bank.Source.LivePath);
        IImageScorer scorer;
        try
        {
            scorer = bank.Source.LoadNew(_loader, product.Options);
        }
        catch (Exception e) when (e is PatchCoreException or IOException or UnauthorizedAccessException)
        {
            bank.Source.Reject();
            if (e is PatchCoreException && product.IsDefault) throw;
            string message = e is PatchCoreException ? e.Message : $"{bank.Source.LivePath}: cannot copy the bank: {e.Message}";
            throw new PatchCoreException(product.MessagePrefix + message, e);
        }
        if (scorer.Thresholds.Ng is not double threshold || !double.IsFinite(threshold))
        {
            scorer.Dispose();
            bank.Source.Reject();
            throw new PatchCoreException(product.IsDefault
                ? $"{bank.Source.LivePath}: the bank has no calibrated threshold and Inspection:Threshold is not set."
                : $"{product.MessagePrefix}{bank.Source.LivePath}: the bank has no calibrated threshold and neither {product.SettingKey("Threshold")} nor Inspection:Threshold is set.");
        }
        return new ActiveBank(scorer) { CreatedAt = _loader.CreatedAt(scorer), VersionFile = versionFile };
    }

    /// <summary>The version file a <c>NAME.current</c> pointer names now (for the journal); null for a plain bank file or an unreadable pointer (the load says why).</summary>
    private static string? VersionFileOf(string path)
    {
        if (!path.EndsWith(BankVersions.PointerSuffix, StringComparison.Ordinal)) return null;
        try { return Path.GetFileName(BankVersions.Resolve(path)); }
        catch (PatchCoreException) { return null; }
    }

    private static double Mb(long bytes) => bytes / (double)(1 << 20);

    private static (long, DateTime)? Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : null;
    }

    private void StartWatchers()
    {
        foreach (string path in _banks.Select(b => b.Source.LivePath).Distinct(StringComparer.Ordinal))
        {
            var watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path))
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
            };
            FileSystemEventHandler poke = (_, _) => _changed.Release();
            watcher.Created += poke;
            watcher.Changed += poke;
            watcher.Renamed += (_, _) => _changed.Release();
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
        }
    }

    public void Dispose()
    {
        foreach (var watcher in _watchers) watcher.Dispose();
        foreach (var bank in _banks)
        {
            lock (bank.Gate)
            {
                bank.Pending?.Scorer.Dispose();
                bank.Loaded?.Scorer.Dispose();
                bank.Pending = bank.Loaded = null;
            }
        }
        _changed.Dispose();
    }
}
