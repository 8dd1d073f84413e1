using System.Threading.Channels;
using PatchCore.Inspection.Intake;

namespace PatchCore.Inspection.Processing;

/// <summary>
/// Forms the intake batch: waits for a first file, then takes more until <c>MaxBatchSize</c> files are gathered or
/// <c>MaxBatchDelayMs</c> has passed since the first. This is how many files the worker inspects together; how the
/// scorer splits them into backbone batches is the library's business.
/// </summary>
internal sealed class BatchGatherer
{
    private readonly int _maxBatchSize;
    private readonly TimeSpan _maxDelay;

    public BatchGatherer(int maxBatchSize, TimeSpan maxDelay)
    {
        _maxBatchSize = maxBatchSize;
        _maxDelay = maxDelay;
    }

    /// <summary>
    /// The next batch; a partial one when the channel is completed while gathering. When <paramref name="stop"/> is
    /// cancelled, the files gathered so far are given to <paramref name="handBack"/> (nothing was done to them) and
    /// <see cref="OperationCanceledException"/> is thrown.
    /// </summary>
    /// <exception cref="ChannelClosedException">The channel was completed before a first file came.</exception>
    public async Task<List<InboxFile>> GatherAsync(ChannelReader<InboxFile> reader, Action<InboxFile> handBack, CancellationToken stop)
    {
        var batch = new List<InboxFile> { await reader.ReadAsync(stop).ConfigureAwait(false) };
        var deadline = DateTime.UtcNow + _maxDelay;
        try
        {
            while (batch.Count < _maxBatchSize)
            {
                while (batch.Count < _maxBatchSize && reader.TryRead(out var more)) batch.Add(more);
                var remaining = deadline - DateTime.UtcNow;
                if (batch.Count >= _maxBatchSize || remaining <= TimeSpan.Zero) break;
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop);
                wait.CancelAfter(remaining);
                try
                {
                    if (!await reader.WaitToReadAsync(wait.Token).ConfigureAwait(false)) break;
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    break; // the delay is over: the batch goes as it is
                }
            }
            return batch;
        }
        catch (OperationCanceledException)
        {
            foreach (var file in batch) handBack(file);
            throw;
        }
    }
}
