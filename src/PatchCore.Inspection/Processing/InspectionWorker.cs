using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Processing;

/// <summary>
/// The daemon's main loop: load the bank (a bad one stops the start), reconcile the outbox after any crash,
/// then take settled files in batches and inspect them. On stop: take no more files, finish the batch in flight,
/// and give up only at the host's shutdown deadline (the next start then reconciles).
/// </summary>
public sealed class InspectionWorker : BackgroundService
{
    private readonly InspectionOptions _options;
    private readonly BankKeeper _banks;
    private readonly InboxIntake _intake;
    private readonly Reconciler _reconciler;
    private readonly BatchInspector _inspector;
    private readonly InspectionStats _stats;
    private readonly WorkerFault _fault;
    private readonly ILogger<InspectionWorker> _log;
    private readonly CancellationTokenSource _abort = new();

    public InspectionWorker(InspectionOptions options, BankKeeper banks, InboxIntake intake, Reconciler reconciler,
        BatchInspector inspector, InspectionStats stats, WorkerFault fault, ILogger<InspectionWorker> log)
    {
        _options = options;
        _banks = banks;
        _intake = intake;
        _reconciler = reconciler;
        _inspector = inspector;
        _stats = stats;
        _fault = fault;
        _log = log;
        _stats.Backlog = () => _intake.Backlog;
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _banks.LoadInitial(); // throws PatchCoreException for a bad bank: the host does not start
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stats.State = "stopping";
        using var deadline = cancellationToken.Register(() => _abort.Cancel());
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        Task intake = Task.CompletedTask, bankWatch = Task.CompletedTask;
        try
        {
            _stats.State = "reconciling";
            await _reconciler.RunAsync(_abort.Token).ConfigureAwait(false);
            _stats.State = "running";
            intake = _intake.RunAsync(stoppingToken);
            bankWatch = _banks.WatchAsync(stoppingToken);
            _log.LogInformation("Watching {Inbox} (batches of up to {Batch}, settle {Settle} ms)", _options.InboxPath, _options.MaxBatchSize, _options.SettleMs);

            while (!stoppingToken.IsCancellationRequested)
            {
                List<InboxFile> batch;
                try
                {
                    batch = await GatherAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (ChannelClosedException)
                {
                    break;
                }
                _banks.SwitchIfReplaced();
                await InspectAsync(batch).ConfigureAwait(false);
            }
            _log.LogInformation("Stopped taking files; {Processed} processed in this run", _stats.Processed);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            _log.LogWarning("Shutdown deadline reached with work in flight; the next start finishes it");
        }
        catch (Exception e)
        {
            _fault.Fail(e);
            _stats.Error($"Worker failed: {e.Message}");
            _log.LogCritical(e, "The inspection worker failed: {Error}", e.Message);
            throw;
        }
        finally
        {
            await Task.WhenAll(intake, bankWatch).ConfigureAwait(false);
            _stats.State = "stopped";
        }
    }

    private async Task InspectAsync(List<InboxFile> batch)
    {
        try
        {
            await _inspector.ProcessAsync(batch, _banks.Current, _abort.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            // Not a file problem (those are quarantined): the reconciliation finishes whatever was recorded, and the
            // rest stays in the inbox for the next rescan.
            _stats.Error($"Batch failed: {e.Message}");
            _log.LogError(e, "A batch of {Count} failed: {Error}; reconciling and retrying its files", batch.Count, e.Message);
            await Task.Delay(TimeSpan.FromSeconds(1), _abort.Token).ConfigureAwait(false);
            await _reconciler.RunAsync(_abort.Token).ConfigureAwait(false);
        }
        finally
        {
            foreach (var file in batch) _intake.Release(file.Path);
        }
    }

    /// <summary>Waits for a first file, then gathers more until the batch is full or MaxBatchDelayMs has passed.</summary>
    private async Task<List<InboxFile>> GatherAsync(CancellationToken stop)
    {
        var reader = _intake.Ready;
        var batch = new List<InboxFile> { await reader.ReadAsync(stop).ConfigureAwait(false) };
        var deadline = DateTime.UtcNow.AddMilliseconds(_options.MaxBatchDelayMs);
        try
        {
            while (batch.Count < _options.MaxBatchSize)
            {
                while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var more)) batch.Add(more);
                var remaining = deadline - DateTime.UtcNow;
                if (batch.Count >= _options.MaxBatchSize || remaining <= TimeSpan.Zero) break;
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop);
                wait.CancelAfter(remaining);
                try
                {
                    if (!await reader.WaitToReadAsync(wait.Token).ConfigureAwait(false)) break;
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    break;
                }
            }
            return batch;
        }
        catch (OperationCanceledException)
        {
            // Stopping while gathering: nothing has been done to these files; they stay in the inbox.
            foreach (var file in batch) _intake.Release(file.Path);
            throw;
        }
    }

    public override void Dispose()
    {
        _abort.Dispose();
        base.Dispose();
    }
}

/// <summary>Set when the worker dies of an unexpected error, so the process exits non-zero.</summary>
public sealed class WorkerFault
{
    public Exception? Error { get; private set; }
    public void Fail(Exception e) => Error = e;
}
