using System.Threading.Channels;
using PatchCore.Inspection.Intake;

namespace PatchCore.Inspection.Processing;

/// <summary>
/// Forms the intake batch: waits for a first file, then takes more until <see cref="Limit"/> files are gathered or
/// <c>MaxBatchDelayMs</c> has passed since the first. This is how many files the worker inspects together; how the
/// scorer splits them into backbone batches is the library's business.
/// </summary>
/// <remarks>
/// A batch's decoded originals stay in memory until its heatmaps are written, and up to three batches hold theirs at
/// once (scoring, waiting, writing). So the limit is <c>MaxBatchSize</c> files, fewer when the images are large: at most
/// <c>MaxBatchPixels</c> original pixels, reckoned from the largest image of the last batch scored (a line's camera
/// gives one size; the first batch after the start, with nothing seen yet, may take <c>MaxBatchSize</c> files).
/// </remarks>
internal sealed class BatchGatherer
{
    private readonly int _maxBatchSize;
    private readonly long _maxBatchPixels;
    private readonly TimeSpan _maxDelay;
    private long _largestImagePixels;

    public BatchGatherer(int maxBatchSize, TimeSpan maxDelay, long maxBatchPixels = long.MaxValue)
    {
        _maxBatchSize = maxBatchSize;
        _maxBatchPixels = maxBatchPixels;
        _maxDelay = maxDelay;
    }

    /// <summary>Most files the next batch takes: <c>MaxBatchSize</c>, or as many of the last largest image as fit the pixel budget (at least one).</summary>
    public int Limit
    {
        get
        {
            long largest = Volatile.Read(ref _largestImagePixels);
            return largest <= 0 ? _maxBatchSize : (int)Math.Clamp(_maxBatchPixels / largest, 1, _maxBatchSize);
        }
    }

    /// <summary>The largest original (width x height) of the batch just scored; 0 (nothing decoded) leaves the last size in force.</summary>
    public void Observe(long largestImagePixels)
    {
        if (largestImagePixels > 0) Volatile.Write(ref _largestImagePixels, largestImagePixels);
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
        int limit = Limit;
        var deadline = DateTime.UtcNow + _maxDelay;
        try
        {
            while (batch.Count < limit)
            {
                while (batch.Count < limit && reader.TryRead(out var more)) batch.Add(more);
                var remaining = deadline - DateTime.UtcNow;
                if (batch.Count >= limit || remaining <= TimeSpan.Zero) break;
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
