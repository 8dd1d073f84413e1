using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace PatchCore.Core.Sampling;

/// <summary>
/// The coreset's seeded random projection of full rows, [n, D] x P [D, K] -> [n, K], as a torch matmul on a device
/// with the matrix of <see cref="RandomProjection"/>. The one place rows are projected: the candidate store projects
/// every candidate with it as it arrives, and a bank update projects the bank's own vectors with it, so that both
/// land in the same space (same seed, same width). Owns the matrix on the device; dispose it.
/// </summary>
internal sealed class RowProjector : IDisposable
{
    private const long BatchBytes = 16L << 20;

    private readonly Tensor _matrix; // [D, K] on the device
    private readonly Device _device;
    private bool _disposed;

    public RowProjector(int dimension, int width, int seed, Device? device = null)
    {
        if (dimension < 1)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "Embedding dimension must be at least 1.");
        if (width < 1)
            throw new ArgumentOutOfRangeException(nameof(width), width, "Projection width must be at least 1.");
        Dimension = dimension;
        Width = width;
        Seed = seed;
        _device = device ?? CPU;
        float[] matrix = RandomProjection.Create(dimension, width, seed);
        using var cpuMatrix = tensor(matrix, [dimension, width]);
        // Long-lived: kept out of any dispose scope the caller may have open.
        _matrix = cpuMatrix.to(_device).DetachFromDisposeScope();
        if (ReferenceEquals(_matrix, cpuMatrix))
            _matrix = cpuMatrix.clone().DetachFromDisposeScope();
    }

    /// <summary>Width of the full rows.</summary>
    public int Dimension { get; }

    /// <summary>Width of the projected rows.</summary>
    public int Width { get; }

    /// <summary>Seed the matrix was drawn with.</summary>
    public int Seed { get; }

    /// <summary>Projects <paramref name="x"/> [n, D] (float32 on the CPU) to [n, K] float32 on the CPU, in the caller's dispose scope.</summary>
    public Tensor Project(Tensor x)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // [n, D] x [D, K] -> [n, K]
        return _device.type == DeviceType.CPU ? x.matmul(_matrix) : x.to(_device).matmul(_matrix).cpu();
    }

    /// <summary>Projects row-major rows [n, D] to row-major [n, K], about 16 MiB of rows at a time.</summary>
    public float[] Project(ReadOnlySpan<float> rows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (rows.Length % Dimension != 0)
            throw new PatchCoreException($"Rows to project: {rows.Length} values is not a whole number of rows of width {Dimension}.");
        long n = rows.Length / Dimension;
        var result = new float[n * Width];
        int batchRows = (int)Math.Max(1, BatchBytes / (4L * Dimension));
        for (long first = 0; first < n; first += batchRows)
        {
            int take = (int)Math.Min(batchRows, n - first);
            using var scope = NewDisposeScope();
            var x = empty([take, Dimension], ScalarType.Float32);
            MemoryMarshal.AsBytes(rows.Slice((int)(first * Dimension), take * Dimension)).CopyTo(x.bytes);
            MemoryMarshal.Cast<byte, float>(Project(x).bytes).CopyTo(result.AsSpan((int)(first * Width), take * Width));
        }
        return result;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _matrix.Dispose();
    }
}
