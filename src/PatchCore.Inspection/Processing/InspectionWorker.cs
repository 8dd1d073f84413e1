using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PatchCore.Core.Native;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Processing;

/// <summary>
/// The daemon's main loop: load every product's bank (a bad one stops the start), reconcile the outbox after any
/// crash, then take settled files in batches and inspect them, product by product, in a pipeline of three stages
/// (score, write heatmaps, commit). On stop: take no more files, finish the batches in flight, and give up only at the
/// host's shutdown deadline (the next start then reconciles).
/// </summary>
internal sealed class InspectionWorker : BackgroundService
{
    private readonly InspectionOptions _options;
    private readonly BankKeeper _banks;
    private readonly InboxIntake _intake;
    private readonly Reconciler _reconciler;
    private readonly BatchInspector _inspector;
    private readonly ImageSubmissions _submissions;
    private readonly DaemonStatus _status;
    private readonly InspectionTotalsCollector _totals;
    private readonly WorkerFault _fault;
    private readonly ILogger<InspectionWorker> _log;
    private readonly BatchGatherer _gatherer;
    private readonly CancellationTokenSource _abort = new();
    private BatchPart? _newest; // the last part the score stage made: when it is finished, nothing is in flight

    public InspectionWorker(InspectionOptions options, BankKeeper banks, InboxIntake intake, Reconciler reconciler,
        BatchInspector inspector, ImageSubmissions submissions, DaemonStatus status, InspectionTotalsCollector totals, WorkerFault fault,
        ILogger<InspectionWorker> log)
    {
        _options = options;
        _banks = banks;
        _intake = intake;
        _reconciler = reconciler;
        _inspector = inspector;
        _submissions = submissions;
        _status = status;
        _totals = totals;
        _fault = fault;
        _log = log;
        _gatherer = new BatchGatherer(options.MaxBatchSize, TimeSpan.FromMilliseconds(options.MaxBatchDelayMs), options.MaxBatchPixels);
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _banks.LoadInitial(); // throws PatchCoreException for a bad bank: the host does not start
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _status.State = "stopping";
        using var deadline = cancellationToken.Register(() => _abort.Cancel());
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        Task intake = Task.CompletedTask, bankWatch = Task.CompletedTask;
        try
        {
            _status.State = "reconciling";
            await _reconciler.RunAsync(_abort.Token).ConfigureAwait(false);
            _submissions.Recover(); // submissions a crash left between the upload and the inbox go in; cut-short ones go
            _status.State = "running";
            intake = _intake.RunAsync(stoppingToken);
            bankWatch = _banks.WatchAsync(stoppingToken);
            _log.Watching(_options.InboxPath, _options.MaxBatchSize, _options.SettleMs);

            await RunPipelineAsync(stoppingToken).ConfigureAwait(false);
            _log.StoppedTaking(_totals.Snapshot().Processed);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            _log.ShutdownDeadline();
        }
        catch (Exception e)
        {
            _fault.Fail(e);
            _status.ReportError(InspectionMetrics.ErrorTypes.Worker, $"Worker failed: {e.Message}");
            _log.WorkerFailed(e, e.Message);
            throw;
        }
        finally
        {
            await Task.WhenAll(intake, bankWatch).ConfigureAwait(false);
            _status.State = "stopped";
        }
    }

    /// <summary>
    /// Three stages joined by queues of one part each (a part: one product's files of a gathered batch), so that while
    /// one part is committed (journal, moves, checkpoint), the next one's heatmaps are encoded and the one after is
    /// checked, decoded and scored. At most five parts are out of the inbox at once (one in each stage, one in each
    /// queue): a slow stage holds the ones before it back. The commit stage takes the parts in the order they were
    /// gathered, so the journal's order and the crash recovery are those of one batch after the other. A stage that fails
    /// stops the others; the parts left in the queues are given up (their files stay in the inbox).
    /// </summary>
    private async Task RunPipelineAsync(CancellationToken stoppingToken)
    {
        var toWrite = Queue();
        var toCommit = Queue();
        using var halt = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
        Task[] stages =
        [
            StageAsync(() => ScoreStageAsync(toWrite.Writer, stoppingToken, halt.Token), toWrite.Writer, halt),
            StageAsync(() => WriteStageAsync(toWrite.Reader, toCommit.Writer, halt.Token), toCommit.Writer, halt),
            StageAsync(() => CommitStageAsync(toCommit.Reader, halt.Token), output: null, halt),
        ];
        try
        {
            await Task.WhenAll(stages).ConfigureAwait(false);
        }
        finally
        {
            foreach (var queue in new[] { toWrite, toCommit })
                while (queue.Reader.TryRead(out var left)) Finish(left);
        }
    }

    /// <summary>The queue between two stages.</summary>
    private static Channel<BatchPart> Queue() =>
        Channel.CreateBounded<BatchPart>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true, SingleWriter = true });

    /// <summary>Parts waiting between two stages.</summary>
    internal const int QueueCapacity = 1;

    /// <summary>Runs a stage on its own thread; when it ends, the next stage's queue is completed, and when it fails, the others are stopped.</summary>
    private static async Task StageAsync(Func<Task> stage, ChannelWriter<BatchPart>? output, CancellationTokenSource halt)
    {
        try
        {
            await Task.Run(stage).ConfigureAwait(false);
            output?.TryComplete();
        }
        catch
        {
            output?.TryComplete();
            await halt.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Gathers batches and scores them. A gathered batch may mix products: each product's files go through its own bank,
    /// leased until the part is committed; entries refused unscored (links, files outside a product's folder) go together
    /// without a bank. Before a bank replacement is switched to, and before a bank that is not loaded is leased (the
    /// memory budget may have to unload another), the parts in flight are finished, so that no lease keeps the old bank.
    /// </summary>
    private async Task ScoreStageAsync(ChannelWriter<BatchPart> output, CancellationToken stoppingToken, CancellationToken halt)
    {
        using var taking = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, halt);
        Task previous = Task.CompletedTask;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (_banks.SwitchWaiting) await previous.WaitAsync(halt).ConfigureAwait(false);
            List<InboxFile> files;
            try
            {
                // Stopping while gathering: nothing has been done to those files; they stay in the inbox.
                files = await _gatherer.GatherAsync(_intake.Ready, file => _intake.Release(file.Path), taking.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (ChannelClosedException)
            {
                break;
            }
            var switches = _banks.SwitchReplaced();
            var groups = files.GroupBy(f => f.Refusal is null ? f.Product : null).Select(g => (Product: g.Key, Files: g.ToList())).ToList();
            for (int g = 0; g < groups.Count; g++)
            {
                var (product, taken) = groups[g];
                BatchPart? part = null;
                try
                {
                    if (product is not null && !_banks.IsLoaded(product)) await previous.WaitAsync(halt).ConfigureAwait(false);
                    part = new BatchPart(taken, product is null ? null : _banks.Lease(product)) { Switches = g == 0 ? switches : [] };
                    Volatile.Write(ref _newest, part);
                    _inspector.Score(part, halt);
                    _gatherer.Observe(part.LargestImagePixels);
                }
                catch (Exception e) when (!(e is OperationCanceledException && halt.IsCancellationRequested))
                {
                    // Not a file problem (those are quarantined): the commit stage recovers once the parts before are
                    // committed; this batch's later parts are not scored, their files stay in the inbox too.
                    if (part is not null) _inspector.Finish(part);
                    part = new BatchPart(groups.Skip(g).SelectMany(x => x.Files).ToList(), lease: null) { Switches = g == 0 ? switches : [], Failure = e };
                    g = groups.Count;
                }
                catch
                {
                    Finish(part ?? new BatchPart(groups.Skip(g).SelectMany(x => x.Files).ToList(), lease: null));
                    foreach (var file in groups.Skip(g + 1).SelectMany(x => x.Files)) _intake.Release(file.Path);
                    throw;
                }
                previous = part.Finished;
                try
                {
                    await output.WriteAsync(part, halt).ConfigureAwait(false);
                }
                catch
                {
                    Finish(part);
                    foreach (var file in groups.Skip(g + 1).SelectMany(x => x.Files)) _intake.Release(file.Path);
                    throw;
                }
            }
        }
    }

    /// <summary>Writes each part's heatmaps and masks, off the scoring path.</summary>
    private async Task WriteStageAsync(ChannelReader<BatchPart> input, ChannelWriter<BatchPart> output, CancellationToken halt)
    {
        await foreach (var part in input.ReadAllAsync(halt).ConfigureAwait(false))
        {
            try
            {
                try
                {
                    if (part.Failure is null) await _inspector.WriteImagesAsync(part, halt).ConfigureAwait(false);
                }
                catch (Exception e) when (!(e is OperationCanceledException && halt.IsCancellationRequested))
                {
                    part.Failure = e;
                }
                await output.WriteAsync(part, halt).ConfigureAwait(false);
            }
            catch
            {
                Finish(part);
                throw;
            }
        }
    }

    /// <summary>Journals each part's bank switches and commits it, in the order gathered; or recovers from its failure.</summary>
    private async Task CommitStageAsync(ChannelReader<BatchPart> input, CancellationToken halt)
    {
        await foreach (var part in input.ReadAllAsync(halt).ConfigureAwait(false))
        {
            try
            {
                await _inspector.JournalSwitchesAsync(part.Switches, halt).ConfigureAwait(false);
                try
                {
                    if (part.Failure is null) await _inspector.CommitAsync(part, halt).ConfigureAwait(false);
                }
                catch (Exception e) when (!(e is OperationCanceledException && halt.IsCancellationRequested))
                {
                    part.Failure = e;
                }
                if (part.Failure is { } failure) await RecoverAsync(part, failure, halt).ConfigureAwait(false);
            }
            finally
            {
                Finish(part);
            }
        }
    }

    /// <summary>
    /// A part that failed for a reason that is not a file's (those are quarantined): the reconciliation finishes whatever
    /// was recorded, and the rest stays in the inbox for the next rescan.
    /// </summary>
    private async Task RecoverAsync(BatchPart part, Exception e, CancellationToken halt)
    {
        _status.ReportError(InspectionMetrics.ErrorTypes.Batch, $"Batch failed: {e.Message}");
        _log.BatchFailed(e, part.Taken.Count, e.Message);
        await Task.Delay(TimeSpan.FromSeconds(1), halt).ConfigureAwait(false);
        await _reconciler.RunAsync(halt).ConfigureAwait(false);
    }

    /// <summary>Ends a part, committed or given up: its images and lease are freed and its files given back to the intake.</summary>
    private void Finish(BatchPart part)
    {
        _inspector.Finish(part);
        foreach (var file in part.Taken) _intake.Release(file.Path);
        part.MarkFinished();
        // The part's decoded images, tensors and PNG buffers are freed now. When no newer part is in flight, what the
        // allocator keeps goes back; within a burst it stays for the next part (trimming after every part cost a
        // sixth of the throughput in page faults: README, "The inspection daemon").
        if (_options.TrimNativeMemory && ReferenceEquals(Volatile.Read(ref _newest), part)) NativeHeap.Trim();
    }

    public override void Dispose()
    {
        _abort.Dispose();
        base.Dispose();
    }
}
