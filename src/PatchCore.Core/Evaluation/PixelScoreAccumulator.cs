using System.Buffers;
using System.Runtime.InteropServices;
using PatchCore.Core.Imaging;

namespace PatchCore.Core.Evaluation;

/// <summary>
/// Collects per-pixel anomaly scores and ground truth of a whole test set, image by image, for exact pixel-level
/// metrics (<see cref="PixelAuroc"/>, <see cref="Aupro"/>, <see cref="F1Max"/>, <see cref="PixelMetrics"/>).
/// Each pixel costs 8 bytes: its score and its ground-truth region id (0 = normal) packed in one <see cref="ulong"/>,
/// kept in chunks of 4 Mi entries (32 MiB) so growth never copies; the chunks are sorted in place and merged
/// on the fly when a metric is computed. Thirty million pixels fill 8 chunks, about 270 MB. Not thread-safe.
/// </summary>
public sealed class PixelScoreAccumulator
{
    private const int DefaultChunkLength = 1 << 22;

    private readonly int _chunkLength;

    private readonly List<ulong[]> _chunks = [];
    private readonly List<bool> _chunkSorted = [];
    private readonly List<int> _regionSizes = [0]; // index = region id; 0 stands for "normal"
    private int _lastChunkCount;

    /// <summary>An empty accumulator.</summary>
    public PixelScoreAccumulator()
        : this(DefaultChunkLength)
    {
    }

    /// <summary>Tests use small chunks to exercise the merge of many sorted runs.</summary>
    internal PixelScoreAccumulator(int chunkLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkLength, 1);
        _chunkLength = chunkLength;
    }

    /// <summary>Pixels added.</summary>
    public long PixelCount { get; private set; }

    /// <summary>Pixels inside a ground-truth region.</summary>
    public long AnomalousPixelCount { get; private set; }

    /// <summary>Pixels outside every ground-truth region.</summary>
    public long NormalPixelCount => PixelCount - AnomalousPixelCount;

    /// <summary>Connected ground-truth regions (8-connectivity, per image) over all images.</summary>
    public int RegionCount => _regionSizes.Count - 1;

    /// <summary>Images added.</summary>
    public int ImageCount { get; private set; }

    /// <summary>Bytes held by the pixel storage (chunks allocated, not only filled).</summary>
    public long StorageBytes => (long)_chunks.Count * _chunkLength * sizeof(ulong);

    /// <summary>Adds an image whose pixels are all normal (a good image, or a defect image with an empty mask).</summary>
    /// <param name="scores">Row-major anomaly map.</param>
    /// <param name="source">Names the image in error messages (e.g. its path).</param>
    public void AddNormal(ReadOnlySpan<float> scores, string? source = null)
    {
        CheckScores(scores, source);
        Append(scores, [], 0);
        ImageCount++;
    }

    /// <summary>Adds one image: its anomaly map and its mask (non-zero = defect), both row-major, same size.</summary>
    /// <param name="scores">Row-major anomaly map, <c>width * height</c> values.</param>
    /// <param name="mask">Row-major ground truth, one byte per pixel, non-zero inside a defect. May be all zero.</param>
    /// <param name="width">Image width, needed to find the connected regions of the mask.</param>
    /// <param name="source">Names the image in error messages (e.g. its path).</param>
    /// <exception cref="PatchCoreException">Sizes disagree, or a score is NaN.</exception>
    public void Add(ReadOnlySpan<float> scores, ReadOnlySpan<byte> mask, int width, string? source = null)
    {
        string name = source ?? $"image {ImageCount}";
        if (mask.Length != scores.Length)
            throw new PatchCoreException($"{name}: anomaly map has {scores.Length} pixels but its mask has {mask.Length}; they must be the same size.");
        if (width <= 0 || scores.Length % width != 0)
            throw new PatchCoreException($"{name}: {scores.Length} pixels are not a whole number of rows of width {width}.");
        CheckScores(scores, name);

        int[] labels = ArrayPool<int>.Shared.Rent(scores.Length);
        try
        {
            Span<int> local = labels.AsSpan(0, scores.Length);
            List<int> sizes = ConnectedComponents.Label(mask, width, local);
            int firstId = _regionSizes.Count;
            _regionSizes.AddRange(sizes);
            Append(scores, local, firstId);
            AnomalousPixelCount += scores.Length - local.Count(0);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(labels);
        }
        ImageCount++;
    }

    /// <summary>As <see cref="Add(ReadOnlySpan{float}, ReadOnlySpan{byte}, int, string?)"/>, with true inside a defect.</summary>
    public void Add(ReadOnlySpan<float> scores, ReadOnlySpan<bool> mask, int width, string? source = null) =>
        Add(scores, MemoryMarshal.Cast<bool, byte>(mask), width, source);

    /// <summary>Sorts what is unsorted, then feeds every distinct score, highest first, to the sinks.</summary>
    internal void Sweep(params IScoreGroupSink[] sinks)
    {
        var runs = new ArraySegment<ulong>[_chunks.Count];
        for (int c = 0; c < _chunks.Count; c++)
        {
            int count = c == _chunks.Count - 1 ? _lastChunkCount : _chunkLength;
            if (!_chunkSorted[c])
            {
                Array.Sort(_chunks[c], 0, count);
                _chunkSorted[c] = true;
            }
            runs[c] = new ArraySegment<ulong>(_chunks[c], 0, count);
        }
        var inverseSizes = new double[_regionSizes.Count];
        for (int r = 1; r < inverseSizes.Length; r++)
            inverseSizes[r] = 1.0 / _regionSizes[r];
        ScoreSweep.Run(runs, inverseSizes, sinks);
    }

    private static void CheckScores(ReadOnlySpan<float> scores, string? source)
    {
        for (int i = 0; i < scores.Length; i++)
            if (float.IsNaN(scores[i]))
                throw new PatchCoreException($"{source ?? "anomaly map"}: pixel {i} has a NaN score; metrics need every score to be a number.");
    }

    /// <summary>
    /// Appends packed entries chunk by chunk. <paramref name="labels"/>: per-pixel region label within the image
    /// (0 = normal, r &gt; 0 = global id firstId + r - 1), or empty when the whole image is normal.
    /// </summary>
    private void Append(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels, int firstId)
    {
        int done = 0;
        while (done < scores.Length)
        {
            if (_chunks.Count == 0 || _lastChunkCount == _chunkLength)
            {
                // Uninitialised: every slot below _lastChunkCount is written before it is read.
                _chunks.Add(GC.AllocateUninitializedArray<ulong>(_chunkLength));
                _chunkSorted.Add(false);
                _lastChunkCount = 0;
            }
            ulong[] chunk = _chunks[^1];
            int take = Math.Min(_chunkLength - _lastChunkCount, scores.Length - done);
            for (int i = 0; i < take; i++)
            {
                int label = labels.IsEmpty ? 0 : labels[done + i];
                chunk[_lastChunkCount + i] = ScoreKey.Pack(scores[done + i], label == 0 ? 0u : (uint)(firstId + label - 1));
            }
            _lastChunkCount += take;
            _chunkSorted[^1] = false;
            done += take;
        }
        PixelCount += scores.Length;
    }
}
