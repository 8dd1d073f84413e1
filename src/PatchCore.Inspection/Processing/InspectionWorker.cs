using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Processing;

/// <summary>
/// The daemon's main loop: load every product's bank (a bad one stops the start), reconcile the outbox after any
/// crash, then take settled files in batches and inspect them, product by product. On stop: take no more files,
/// finish the batch in flight, and give up only at the host's shutdown deadline (the next start then reconciles).
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
        _gatherer = new BatchGatherer(options.MaxBatchSize, TimeSpan.FromMilliseconds(options.MaxBatchDelayMs));
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

            while (!stoppingToken.IsCancellationRequested)
            {
                List<InboxFile> batch;
                try
                {
                    // Stopping while gathering: nothing has been done to those files; they stay in the inbox.
                    batch = await _gatherer.GatherAsync(_intake.Ready, file => _intake.Release(file.Path), stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (ChannelClosedException)
                {
                    break;
                }
                await _inspector.JournalSwitchesAsync(_banks.SwitchReplaced(), _abort.Token).ConfigureAwait(false);
                await InspectAsync(batch).ConfigureAwait(false);
            }
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
    /// A gathered batch may mix products: each product's files go through its own bank, one product after the other, the
    /// bank leased so that the memory budget never unloads it mid-batch; entries refused unscored (links, files outside
    /// a product's folder) go together without a bank.
    /// </summary>
    private async Task InspectAsync(List<InboxFile> batch)
    {
        try
        {
            foreach (var group in batch.GroupBy(f => f.Refusal is null ? f.Product : null))
            {
                var files = group.ToList();
                if (group.Key is not { } product)
                {
                    await _inspector.ProcessAsync(files, bank: null, _abort.Token).ConfigureAwait(false);
                    continue;
                }
                using var lease = _banks.Lease(product);
                await _inspector.ProcessAsync(files, lease.Bank, _abort.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            // Not a file problem (those are quarantined): the reconciliation finishes whatever was recorded, and the
            // rest stays in the inbox for the next rescan.
            _status.ReportError(InspectionMetrics.ErrorTypes.Batch, $"Batch failed: {e.Message}");
            _log.BatchFailed(e, batch.Count, e.Message);
            await Task.Delay(TimeSpan.FromSeconds(1), _abort.Token).ConfigureAwait(false);
            await _reconciler.RunAsync(_abort.Token).ConfigureAwait(false);
        }
        finally
        {
            foreach (var file in batch) _intake.Release(file.Path);
        }
    }

    public override void Dispose()
    {
        _abort.Dispose();
        base.Dispose();
    }
}
