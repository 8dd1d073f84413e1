using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PatchCore.Core;
using PatchCore.Core.Devices;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Banks;

/// <summary>
/// The operator's feedback loop (<c>Inspection:Feedback</c>). Every <see cref="FeedbackOptions.PollIntervalMs"/> it
/// looks at each product's <c>feedback/good/</c> (<see cref="FeedbackFolders"/>): a settled new image is checked (it
/// decodes as scoring would; if the journal knows the image by its content, it was inspected as this product), a bad
/// one is moved to <c>feedback/rejected/</c> with its reason. Once <see cref="FeedbackOptions.MinImages"/> checked
/// images wait (or the oldest has waited <see cref="FeedbackOptions.IntervalMinutes"/>), the bank is updated with them
/// (<see cref="PatchCoreBankUpdater"/>: coverage rule capped at <see cref="FeedbackOptions.MaxAddedVectors"/>,
/// recalibration from good images only) on a thread of its own at low priority (<see cref="BackgroundPriority"/>: that
/// thread only; libtorch's shared intra-op threads stay at normal priority),
/// one image decoded at a time, its batches and search chunks within <see cref="FeedbackOptions.WorkBudgetMb"/>. The
/// new version is written beside the old (<c>NAME.vN.pcbank</c>, complete or not at all) and made current by moving
/// the pointer; the <see cref="BankKeeper"/> sees the pointer change like any other and switches between batches.
/// Scoring never waits for it. A new ng threshold above <see cref="FeedbackOptions.MaxThresholdRise"/> times the old
/// leaves the version written but not current until an operator creates <c>feedback/confirm</c>.
/// One update runs at a time, for one product. Killed at any point, the pointer still names the old version (it is
/// moved only after the new file is complete), and the images are still in <c>feedback/good/</c> (they are moved to
/// <c>used/</c> only after the version is current, or recorded as pending), so the next start does the update again.
/// </summary>
internal sealed class BankFeedback : BackgroundService
{
    /// <summary>How much of the journal's end is read to find which product inspected a feedback image.</summary>
    private const long JournalScanBytes = 64L << 20;

    private readonly FeedbackOptions _options;
    private readonly InspectionOptions _inspection;
    private readonly ProductState[] _products;
    private readonly IResultLog _results;
    private readonly ILogger<BankFeedback> _log;
    private readonly Counter _updates;

    public BankFeedback(InspectionOptions options, ProductCatalog products, Layout layout, IResultLog results,
        InspectionMetrics metrics, ILogger<BankFeedback> log)
    {
        _inspection = options;
        _options = options.Feedback;
        _products = products.All.Select(p => new ProductState(p, new FeedbackFolders(layout, p.Name))).ToArray();
        _results = results;
        _log = log;
        _updates = new Counter(metrics);
    }

    public bool Enabled => _options.Enabled;

    /// <summary>What health.json says of the product's feedback; null when feedback is off.</summary>
    public FeedbackHealth? Health(string product)
    {
        if (!_options.Enabled) return null;
        var p = _products.FirstOrDefault(s => s.Product.Name == product);
        return p?.Health;
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        if (!_options.Enabled) return;
        await Task.Yield();
        foreach (var p in _products)
        {
            Directory.CreateDirectory(p.Folders.Good);
            RemoveLeftovers(p);
            p.Publish();
        }
        _log.FeedbackWatching(_products.Length, string.Join(", ", _products.Select(p => p.Folders.Good)), _options.MinImages);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var p in _products)
                {
                    try
                    {
                        await PassAsync(p, stop).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
                    {
                        // Whatever goes wrong here is the feedback's problem: it is reported and tried again next pass,
                        // and scoring goes on (a fault must not stop the host, as an unhandled one in a BackgroundService would).
                        p.LastError = ($"{p.Product.MessagePrefix}feedback: {e.Message}", DateTimeOffset.UtcNow);
                        p.Publish();
                        _log.FeedbackError(e, p.Product.Name, e.Message);
                    }
                }
                await Task.Delay(_options.PollIntervalMs, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task PassAsync(ProductState p, CancellationToken stop)
    {
        if (HandlePending(p)) return; // a version waits for confirmation: new feedback waits with it
        var fresh = Collect(p);
        if (fresh.Count > 0) Check(p, fresh);
        p.Publish();
        if (p.Waiting.Count == 0) return;
        bool byCount = p.Waiting.Count >= _options.MinImages;
        bool bySchedule = _options.IntervalMinutes is double minutes && DateTimeOffset.UtcNow - p.Waiting.Values.Min() >= TimeSpan.FromMinutes(minutes);
        if (!byCount && !bySchedule) return;
        var files = p.Waiting.Keys.Order(StringComparer.Ordinal).ToArray();
        if (p.FailedSet is { } failed && failed.SetEquals(files)) return; // the same images failed already: wait for a change
        await UpdateAsync(p, files, stop).ConfigureAwait(false);
    }

    /// <summary>Settled files in good/ not yet checked; forgets waiting ones that were taken away.</summary>
    private List<string> Collect(ProductState p)
    {
        var now = DateTime.UtcNow;
        var present = new HashSet<string>(StringComparer.Ordinal);
        var fresh = new List<string>();
        foreach (var file in new DirectoryInfo(p.Folders.Good).EnumerateFiles())
        {
            if (file.Name.StartsWith('.') || file.Name.Contains(".tmp", StringComparison.Ordinal) || file.LinkTarget is not null) continue;
            present.Add(file.FullName);
            if (p.Waiting.ContainsKey(file.FullName)) continue;
            if (now - file.LastWriteTimeUtc < TimeSpan.FromMilliseconds(_inspection.SettleMs)) continue;
            fresh.Add(file.FullName);
        }
        foreach (var gone in p.Waiting.Keys.Where(k => !present.Contains(k)).ToArray()) p.Waiting.Remove(gone);
        return fresh;
    }

    /// <summary>Each image must decode as scoring would, and, where the journal knows its content, have been inspected as this product.</summary>
    private void Check(ProductState p, List<string> fresh)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in fresh)
        {
            string? problem = null;
            try
            {
                ImageCheck.Check(path, p.Product.Options.MaxPixels);
                hashes[path] = ImageMover.Sha256Hex(path); // as the journal's records were hashed
            }
            catch (ImageLoadException e) when (!e.IsMissing)
            {
                problem = $"not a usable image: {e.Reason}";
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or ImageLoadException)
            {
                continue; // taken away again
            }
            if (problem is not null) Reject(p, path, problem);
        }
        if (hashes.Count == 0) return;
        var products = ProductsOf(hashes.Values.ToHashSet(StringComparer.Ordinal));
        foreach (var (path, hash) in hashes)
        {
            if (products.TryGetValue(hash, out var inspectedAs) && inspectedAs != p.Product.Name)
                Reject(p, path, $"the daemon inspected this image as product '{inspectedAs}', not '{p.Product.Name}': feed it back in that product's feedback/good/");
            else
                p.Waiting[path] = DateTimeOffset.UtcNow;
        }
    }

    /// <summary>The product each of these contents was last inspected as, from the journal's last <see cref="JournalScanBytes"/>.</summary>
    private Dictionary<string, string> ProductsOf(HashSet<string> hashes)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var record in _results.ReadLast(JournalScanBytes))
            if (record.Sha256 is { } sha && hashes.Contains(sha) && record.Product is { } product)
                found[sha] = product;
        return found;
    }

    private void Reject(ProductState p, string path, string reason)
    {
        Directory.CreateDirectory(p.Folders.Rejected);
        string target = Layout.UniqueDestination(p.Folders.Rejected, Path.GetFileName(path), new HashSet<string>());
        File.Move(path, target);
        File.WriteAllText(Layout.ReasonPath(target), reason + "\n");
        p.Rejected++;
        Journal(p, new FeedbackEvent { Kind = "rejected", Product = p.Product.Name, At = DateTimeOffset.UtcNow, Images = [Path.GetFileName(target)], Reason = reason });
        _updates.Add(p.Product.Name, "rejected");
        _log.FeedbackImageRejected(p.Product.Name, Path.GetFileName(path), reason);
    }

    private async Task UpdateAsync(ProductState p, string[] files, CancellationToken stop)
    {
        string pointer = p.Product.BankPath;
        string series = BankVersions.SeriesOf(pointer);
        int? parentVersion = BankVersions.Current(series);
        string outPath = BankVersions.NextVersionPath(series);
        int version = BankVersions.VersionOf(outPath)!.Value;
        var names = files.Select(Path.GetFileName).ToArray();
        p.State = "updating";
        p.Publish();
        Journal(p, new FeedbackEvent { Kind = "started", Product = p.Product.Name, At = DateTimeOffset.UtcNow, Version = version, ParentVersion = parentVersion, Images = names! });
        _log.FeedbackUpdateStarted(p.Product.Name, files.Length, Path.GetFileName(outPath), parentVersion ?? 0);

        var options = new UpdateOptions(pointer, files, outPath)
        {
            MaxAddedVectors = _options.MaxAddedVectors,
            HoldOutFraction = _options.HoldOutFraction,
            WorkBudgetBytes = (long)_options.WorkBudgetMb << 20,
            DecodeParallelism = 1,
            BatchSize = 1,
            Device = p.Product.Options.Device,
            MaxPixels = p.Product.Options.MaxPixels,
        };
        var started = Stopwatch.GetTimestamp();
        UpdateSummary summary;
        try
        {
            summary = await OnLowPriorityThread(() => PatchCoreBankUpdater.Update(options, null, stop)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            p.State = "idle";
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Any failure (a bad image the checks missed, a full disk, the native code's error): the current bank stays,
            // and the same set of images is not tried again until it changes.
            p.State = "idle";
            p.FailedSet = files.ToHashSet(StringComparer.Ordinal);
            p.LastError = ($"{p.Product.MessagePrefix}feedback update to {Path.GetFileName(outPath)} failed: {e.Message}", DateTimeOffset.UtcNow);
            p.Publish();
            Journal(p, new FeedbackEvent { Kind = "failed", Product = p.Product.Name, At = DateTimeOffset.UtcNow, Version = version, Images = names!, Reason = e.Message });
            _updates.Add(p.Product.Name, "failed");
            _log.FeedbackUpdateFailed(e, p.Product.Name, e.Message);
            return;
        }
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        p.FailedSet = null;

        double? oldNg = summary.OldThresholds.Ng, newNg = summary.NewThresholds.Ng;
        var done = new FeedbackEvent
        {
            Kind = "current", Product = p.Product.Name, At = DateTimeOffset.UtcNow, Version = version, ParentVersion = parentVersion,
            BankId = summary.BankId, ParentId = summary.ParentId, Images = names!, VectorsAdded = summary.VectorsAdded,
            OldThreshold = oldNg, NewThreshold = newNg, Seconds = Math.Round(seconds, 2),
        };
        p.LastVersion = version;
        p.LastUpdate = (DateTimeOffset.UtcNow, seconds);
        if (oldNg is double o && newNg is double n && o > 0 && n > o * _options.MaxThresholdRise)
        {
            string reason = string.Create(CultureInfo.InvariantCulture,
                $"the ng threshold would rise from {o:0.###} to {n:0.###} (x{n / o:0.##}, over Inspection:Feedback:MaxThresholdRise {_options.MaxThresholdRise:0.##}): some fed-back images may not be good. Create {p.Folders.ConfirmFile} to make v{version} current, or delete {p.Folders.PendingFile} to drop it");
            var pending = done with { Kind = "pending", Reason = reason };
            WriteAtomically(p.Folders.PendingFile, JsonSerializer.Serialize(pending, RecordJson.Default.FeedbackEvent));
            MoveUsed(p, files, version); // after pending.json: killed in between, the images are used again after the confirmation (harmless)
            Journal(p, pending);
            p.Pending = pending;
            p.State = "awaiting-confirmation";
            p.Publish();
            _updates.Add(p.Product.Name, "pending");
            _log.FeedbackAwaitingConfirmation(p.Product.Name, version, reason);
            return;
        }
        BankVersions.SetCurrent(series, version);
        // The images leave good/ only once their version is current: killed in between, the next start updates again
        // with them (their patches are then covered, so it adds little), rather than leaving them used in a version
        // that never went live.
        MoveUsed(p, files, version);
        Journal(p, done);
        p.State = "idle";
        p.Publish();
        _updates.Add(p.Product.Name, "current");
        _log.FeedbackVersionCurrent(p.Product.Name, version, summary.BankId, summary.VectorsAdded, oldNg ?? double.NaN, newNg ?? double.NaN, seconds);
    }

    /// <summary>A version waiting for confirmation: made current once <c>feedback/confirm</c> exists. True while one waits.</summary>
    private bool HandlePending(ProductState p)
    {
        if (!File.Exists(p.Folders.PendingFile))
        {
            if (p.Pending is not null)
            {
                p.Pending = null; // the operator dropped it
                p.State = "idle";
                p.Publish();
            }
            return false;
        }
        var pending = p.Pending ??= JsonSerializer.Deserialize(File.ReadAllText(p.Folders.PendingFile), RecordJson.Default.FeedbackEvent)
                                    ?? throw new JsonException($"{p.Folders.PendingFile} is empty");
        p.State = "awaiting-confirmation";
        if (!File.Exists(p.Folders.ConfirmFile))
        {
            p.Publish();
            return true;
        }
        int version = pending.Version ?? throw new JsonException($"{p.Folders.PendingFile} names no version");
        string series = BankVersions.SeriesOf(p.Product.BankPath);
        try
        {
            BankVersions.SetCurrent(series, version);
        }
        catch (BankFileException e)
        {
            // The pending version cannot be made current (its file was removed or damaged): the confirmation is
            // refused once, the pending version dropped, and feedback goes on from the current bank.
            File.Delete(p.Folders.ConfirmFile);
            File.Delete(p.Folders.PendingFile);
            p.Pending = null;
            p.State = "idle";
            p.LastError = ($"{p.Product.MessagePrefix}confirmed v{version} cannot be made current: {e.Message}", DateTimeOffset.UtcNow);
            p.Publish();
            Journal(p, pending with { Kind = "failed", At = DateTimeOffset.UtcNow, Reason = e.Message });
            _log.FeedbackUpdateFailed(e, p.Product.Name, e.Message);
            return false;
        }
        Journal(p, pending with { Kind = "confirmed", At = DateTimeOffset.UtcNow });
        File.Delete(p.Folders.PendingFile);
        File.Delete(p.Folders.ConfirmFile);
        p.Pending = null;
        p.State = "idle";
        p.Publish();
        _updates.Add(p.Product.Name, "confirmed");
        _log.FeedbackConfirmed(p.Product.Name, version);
        return false;
    }

    private void MoveUsed(ProductState p, string[] files, int version)
    {
        string folder = p.Folders.Used(version);
        Directory.CreateDirectory(folder);
        var reserved = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            string target = Layout.UniqueDestination(folder, Path.GetFileName(file), reserved);
            reserved.Add(target);
            try { File.Move(file, target); }
            catch (FileNotFoundException) { }
            p.Waiting.Remove(file);
        }
    }

    /// <summary>
    /// Temp files a killed writer of this series left (<c>NAME.vN.pcbank.tmp-PID-...</c>, <c>NAME.current.tmp-PID-...</c>):
    /// removed when their process is gone. They never match a version's name, so they were never loaded.
    /// </summary>
    private void RemoveLeftovers(ProductState p)
    {
        string series = BankVersions.SeriesOf(p.Product.BankPath);
        string dir = Path.GetDirectoryName(series)!, name = Path.GetFileName(series);
        if (!Directory.Exists(dir)) return;
        foreach (var file in Directory.EnumerateFiles(dir, name + ".*.tmp-*"))
        {
            string rest = file[(file.LastIndexOf(".tmp-", StringComparison.Ordinal) + 5)..];
            int dash = rest.IndexOf('-');
            if (dash <= 0 || !int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || Alive(pid)) continue;
            try
            {
                File.Delete(file);
                _log.FeedbackLeftoverRemoved(p.Product.Name, file);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    private static bool Alive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    private static Task<T> OnLowPriorityThread<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            BackgroundPriority.LowerCurrentThread();
            try { done.SetResult(work()); }
            catch (Exception e) { done.SetException(e); }
        })
        { IsBackground = true, Name = "patchcore-feedback-update" };
        thread.Start();
        return done.Task;
    }

    private static void Journal(ProductState p, FeedbackEvent e)
    {
        Directory.CreateDirectory(p.Folders.Root);
        using var stream = new FileStream(p.Folders.JournalFile, FileMode.Append, FileAccess.Write, FileShare.Read);
        stream.Write(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(e, RecordJson.Default.FeedbackEvent) + "\n"));
        stream.Flush(flushToDisk: true);
    }

    private static void WriteAtomically(string path, string text)
    {
        string tmp = $"{path}.tmp-{Environment.ProcessId}";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(Encoding.UTF8.GetBytes(text + "\n"));
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>One product's feedback state; health.json reads <see cref="Health"/> (a whole record, replaced by the service's one thread).</summary>
    private sealed class ProductState(Product product, FeedbackFolders folders)
    {
        public Product Product { get; } = product;
        public FeedbackFolders Folders { get; } = folders;
        /// <summary>Checked images waiting in good/, with when they were checked.</summary>
        public Dictionary<string, DateTimeOffset> Waiting { get; } = new(StringComparer.Ordinal);
        public HashSet<string>? FailedSet { get; set; }
        public FeedbackEvent? Pending { get; set; }
        public string State { get; set; } = "idle";
        public int Rejected { get; set; }
        public int? LastVersion { get; set; }
        public (DateTimeOffset At, double Seconds)? LastUpdate { get; set; }
        public (string Message, DateTimeOffset At)? LastError { get; set; }
        public FeedbackHealth Health { get; private set; } = new("idle", 0, 0);

        public void Publish() => Health = new FeedbackHealth(State, Waiting.Count, Rejected)
        {
            LastVersion = LastVersion,
            LastUpdateAt = LastUpdate?.At,
            LastUpdateSeconds = LastUpdate is { } u ? Math.Round(u.Seconds, 2) : null,
            PendingVersion = Pending?.Version,
            PendingReason = Pending?.Reason,
            LastErrorAt = LastError?.At,
            LastError = LastError?.Message,
        };
    }

    /// <summary>patchcore.feedback.updates, by product and outcome (current, pending, confirmed, failed, rejected).</summary>
    private sealed class Counter(InspectionMetrics metrics)
    {
        private readonly System.Diagnostics.Metrics.Counter<long> _counter = metrics.Meter.CreateCounter<long>("patchcore.feedback.events", "{event}",
            "Feedback events by product and outcome: current (a version made current), pending (waits for confirmation), confirmed, failed, rejected (an image).");

        public void Add(string product, string outcome) =>
            _counter.Add(1, new KeyValuePair<string, object?>("product", product), new KeyValuePair<string, object?>("outcome", outcome));
    }
}
