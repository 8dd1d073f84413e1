using System.Runtime.InteropServices;
using PatchCore.Core.Devices;
using TorchSharp;
using static TorchSharp.torch;

namespace PatchCore.Core.Sampling;

/// <summary>
/// Append-only store of candidate embeddings for the coreset, filled batch by batch during feature extraction.
/// Full rows are kept as float16, either in ~32 MiB chunks (managed memory up to a budget, memory-mapped temp
/// files beyond it) or in one temp file read back on demand (<see cref="CandidateRowStorage"/>), and the seeded
/// random projection of every row (float32 [n, ProjectionDim]) is computed at append time by a
/// <see cref="RowProjector"/> on the configured device. The projections stay in memory up to
/// <see cref="CandidateStoreOptions.ProjectionMemoryBytes"/> (512 MiB: 1,048,576 rows of 128) and go to a temp file
/// beyond it, read back in blocks (<see cref="ReadProjected"/>). 1,000,000 x 1024 candidates take 2 GiB of float16
/// plus 0.5 GiB of projections. Not thread-safe.
/// </summary>
internal sealed class CandidateStore : IDisposable
{
    private const long ChunkBytes = 32L << 20;
    private const long BatchBytes = 16L << 20;

    private readonly List<HalfRowChunk> _rowChunks = [];
    private readonly TempRowFile<Half>? _rowFile;
    private readonly List<float[]> _projectedChunks = []; // the first chunks' projections, within the memory budget
    private TempRowFile<float>? _projectedFile;           // the projections of every later chunk, from row ProjectedInMemoryRows
    private int _chunks;
    private readonly long _projectionBudget;
    private readonly RowProjector _projector;
    private readonly int _chunkRows;
    private readonly long _memoryBudget;
    private readonly string _spillDirectory;
    private bool _disposed;

    public CandidateStore(int dimension, CandidateStoreOptions? options = null)
    {
        options ??= new CandidateStoreOptions();
        if (dimension < 1)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "Embedding dimension must be at least 1.");
        if (options.ProjectionDim < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.ProjectionDim, "Projection width must be at least 1.");
        if (options.ChunkRows is < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.ChunkRows, "Chunk rows must be at least 1.");
        if (options.ProjectionMemoryBytes < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.ProjectionMemoryBytes, "The projections' memory budget must not be negative.");
        Dimension = dimension;
        ProjectionDim = options.ProjectionDim;
        ProjectionSeed = options.Seed;
        _chunkRows = options.ChunkRows ?? (int)Math.Clamp(ChunkBytes / (2L * dimension), 1, int.MaxValue / Math.Max(dimension, ProjectionDim));
        _memoryBudget = options.MemoryBudgetBytes ?? ComputeDevice.AvailableRamBytes() / 2;
        _spillDirectory = options.SpillDirectory ?? Path.GetTempPath();
        _projectionBudget = options.ProjectionMemoryBytes;

        _projector = new RowProjector(dimension, ProjectionDim, ProjectionSeed, options.Device);
        if (options.RowStorage == CandidateRowStorage.TempFile)
        {
            try
            {
                _rowFile = new TempRowFile<Half>(_spillDirectory, "candidate rows", "f16");
            }
            catch
            {
                _projector.Dispose();
                throw;
            }
        }
    }

    /// <summary>Width of the full rows.</summary>
    public int Dimension { get; }

    /// <summary>Width of the projected rows.</summary>
    public int ProjectionDim { get; }

    /// <summary>Seed the projection matrix was drawn with.</summary>
    public int ProjectionSeed { get; }

    /// <summary>Rows appended so far.</summary>
    public long Count { get; private set; }

    /// <summary>Bytes of float16 rows held in managed memory.</summary>
    public long InMemoryBytes { get; private set; }

    /// <summary>Bytes of float16 rows held in memory-mapped temp files.</summary>
    public long MappedBytes { get; private set; }

    /// <summary>Bytes of float16 rows written to the row file (<see cref="CandidateRowStorage.TempFile"/>).</summary>
    public long FileBytes => (_rowFile?.Length ?? 0) * sizeof(ushort);

    /// <summary>Rows whose projections are held in memory (the first ones); the projections of later rows are in a temp file.</summary>
    public long ProjectedInMemoryRows => Math.Min(Count, ProjectedCapacityRows);

    /// <summary>Rows the in-memory projection chunks hold; the projected file starts at this row.</summary>
    private long ProjectedCapacityRows => (long)_projectedChunks.Count * _chunkRows;

    /// <summary>Where the full rows are kept.</summary>
    public CandidateRowStorage RowStorage => _rowFile is null ? CandidateRowStorage.Memory : CandidateRowStorage.TempFile;

    /// <summary>Appends n = rows.Length / Dimension rows (row-major float32 [n, Dimension]).</summary>
    public void Append(ReadOnlySpan<float> rows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (rows.Length % Dimension != 0)
            throw new PatchCoreException($"Candidate rows: {rows.Length} values is not a whole number of rows of width {Dimension}.");
        long n = rows.Length / Dimension;
        int batchRows = (int)Math.Max(1, BatchBytes / (4L * Dimension));
        long done = 0;
        while (done < n)
        {
            int chunk = (int)(Count / _chunkRows);
            int inChunk = (int)(Count % _chunkRows);
            if (chunk == _chunks)
                AddChunk();
            int take = (int)Math.Min(Math.Min(n - done, batchRows), _chunkRows - inChunk);
            AppendBatch(rows.Slice((int)(done * Dimension), take * Dimension), take, chunk, inChunk);
            done += take;
            Count += take;
        }
    }

    private void AddChunk()
    {
        _chunks++;
        long projectedBytes = (long)_chunkRows * ProjectionDim * sizeof(float);
        if (_projectedFile is null && (_projectedChunks.Count == 0 || (_projectedChunks.Count + 1) * projectedBytes <= _projectionBudget))
            _projectedChunks.Add(new float[(long)_chunkRows * ProjectionDim]);
        else
            _projectedFile ??= new TempRowFile<float>(_spillDirectory, "candidate projections", "f32");
        if (_rowFile is not null)
            return;
        long halves = (long)_chunkRows * Dimension;
        long bytes = halves * sizeof(ushort);
        HalfRowChunk chunk = InMemoryBytes + bytes <= _memoryBudget
            ? HalfRowChunk.InMemory(halves)
            : HalfRowChunk.Mapped(halves, _spillDirectory);
        _rowChunks.Add(chunk);
        if (chunk.IsMapped) MappedBytes += bytes; else InMemoryBytes += bytes;
    }

    private void AppendBatch(ReadOnlySpan<float> rows, int n, int chunk, int inChunk)
    {
        using var scope = NewDisposeScope();
        var x = empty([n, Dimension], ScalarType.Float32);
        MemoryMarshal.AsBytes(rows).CopyTo(x.bytes);
        var half = x.to_type(ScalarType.Float16);
        if (!half.isfinite().all().item<bool>())
        {
            long first = Count;
            string problem = x.isfinite().all().item<bool>()
                ? "a value outside the float16 range (|x| > 65504)"
                : "a NaN or infinite value";
            throw new PatchCoreException($"Candidate rows {first}..{first + n - 1}: {problem}.");
        }
        var projected = _projector.Project(x); // [n, D] -> [n, K]
        var halfValues = MemoryMarshal.Cast<byte, Half>(half.bytes);
        if (_rowFile is not null)
            _rowFile.Write(Count * Dimension, halfValues);
        else
            halfValues.CopyTo(_rowChunks[chunk].Values.Slice(inChunk * Dimension, n * Dimension));
        var projectedValues = MemoryMarshal.Cast<byte, float>(projected.bytes);
        if (chunk < _projectedChunks.Count)
            projectedValues.CopyTo(_projectedChunks[chunk].AsSpan(inChunk * ProjectionDim, n * ProjectionDim));
        else
            _projectedFile!.Write((Count - ProjectedCapacityRows) * ProjectionDim, projectedValues);
    }

    /// <summary>
    /// Rows [n, <see cref="Dimension"/>] through the store's own projection, the one every candidate went through:
    /// [n, <see cref="ProjectionDim"/>] (a bank update projects the bank's vectors with it).
    /// </summary>
    public float[] Project(ReadOnlySpan<float> rows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _projector.Project(rows);
    }

    /// <summary>Full row <paramref name="index"/> back as float32.</summary>
    public void ReadRow(long index, Span<float> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckIndex(index);
        if (destination.Length < Dimension)
            throw new ArgumentException($"Destination holds {destination.Length} values, a row has {Dimension}.", nameof(destination));
        Span<Half> source = Dimension <= 4096 ? stackalloc Half[Dimension] : new Half[Dimension];
        ReadHalfRowsUnchecked(index, source);
        for (int k = 0; k < Dimension; k++)
            destination[k] = (float)source[k];
    }

    /// <summary>The given full rows as float32, row-major [indices.Count, Dimension].</summary>
    public float[] ReadRows(IReadOnlyList<long> indices)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(indices);
        foreach (long i in indices)
            CheckIndex(i);
        var result = new float[(long)indices.Count * Dimension];
        Parallel.For(0, (indices.Count + 255) / 256, block =>
        {
            int end = Math.Min(indices.Count, (block + 1) * 256);
            var source = new Half[Dimension];
            for (int r = block * 256; r < end; r++)
            {
                ReadHalfRowsUnchecked(indices[r], source);
                var target = result.AsSpan(r * Dimension, Dimension);
                for (int k = 0; k < Dimension; k++)
                    target[k] = (float)source[k];
            }
        });
        return result;
    }

    /// <summary>Projected row <paramref name="index"/> ([ProjectionDim] float32), a copy.</summary>
    public float[] ProjectedRow(long index)
    {
        CheckIndex(index);
        var row = new float[ProjectionDim];
        ReadProjected(index, row);
        return row;
    }

    /// <summary>Copies projected rows starting at <paramref name="firstRow"/> into <paramref name="destination"/> (whole rows).</summary>
    public void ReadProjected(long firstRow, Span<float> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long rows = destination.Length / ProjectionDim;
        if (firstRow < 0 || firstRow + rows > Count)
            throw new ArgumentOutOfRangeException(nameof(firstRow), firstRow, $"Rows {firstRow}..{firstRow + rows - 1} are outside the {Count} stored rows.");
        long row = firstRow;
        int written = 0;
        long inMemory = Math.Min(firstRow + rows, ProjectedCapacityRows);
        while (row < inMemory)
        {
            int inChunk = (int)(row % _chunkRows);
            int take = (int)Math.Min(_chunkRows - inChunk, inMemory - row);
            _projectedChunks[(int)(row / _chunkRows)].AsSpan(inChunk * ProjectionDim, take * ProjectionDim)
                .CopyTo(destination.Slice(written, take * ProjectionDim));
            written += take * ProjectionDim;
            row += take;
        }
        if (row < firstRow + rows)
            _projectedFile!.Read((row - ProjectedCapacityRows) * ProjectionDim, destination.Slice(written, (int)(firstRow + rows - row) * ProjectionDim));
    }

    /// <summary>Copies float16 rows starting at <paramref name="firstRow"/> (whole rows).</summary>
    internal void ReadHalfRows(long firstRow, Span<Half> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long rows = destination.Length / Dimension;
        if (firstRow < 0 || firstRow + rows > Count)
            throw new ArgumentOutOfRangeException(nameof(firstRow), firstRow, $"Rows {firstRow}..{firstRow + rows - 1} are outside the {Count} stored rows.");
        ReadHalfRowsUnchecked(firstRow, destination[..(int)(rows * Dimension)]);
    }

    /// <summary>Copies destination.Length / Dimension float16 rows from <paramref name="firstRow"/> (checked by the caller).</summary>
    private void ReadHalfRowsUnchecked(long firstRow, Span<Half> destination)
    {
        if (_rowFile is not null)
        {
            _rowFile.Read(firstRow * Dimension, destination);
            return;
        }
        long rows = destination.Length / Dimension;
        long row = firstRow;
        int written = 0;
        while (row < firstRow + rows)
        {
            int inChunk = (int)(row % _chunkRows);
            int take = (int)Math.Min(_chunkRows - inChunk, firstRow + rows - row);
            _rowChunks[(int)(row / _chunkRows)].Values.Slice(inChunk * Dimension, take * Dimension)
                .CopyTo(destination.Slice(written, take * Dimension));
            written += take * Dimension;
            row += take;
        }
    }

    private void CheckIndex(long index)
    {
        if ((ulong)index >= (ulong)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Row {index} is outside the {Count} stored rows.");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _projector.Dispose();
        foreach (var chunk in _rowChunks)
            chunk.Dispose();
        _rowFile?.Dispose();
        _projectedFile?.Dispose();
        _rowChunks.Clear();
        _projectedChunks.Clear();
    }
}
