using System.Runtime.InteropServices;
using PatchCore.Core.Devices;
using TorchSharp;
using static TorchSharp.torch;

namespace PatchCore.Core.Search;

/// <summary>
/// Exact k-nearest-neighbour search with torch on a device (CPU or CUDA). The bank is a [N, D] float32 tensor kept on
/// the device with its squared norms; queries and bank are taken in chunks so that each distance block stays within
/// the work budget. Distances are squared L2, as FAISS returns them. Not safe for concurrent calls.
/// </summary>
internal sealed class TorchExactIndex : INearestNeighbourIndex
{
    /// <summary>Fewest query rows per chunk before the bank is split instead (keeps matrix products efficient).</summary>
    private const int MinQueryRows = 256;

    /// <summary>Budget share per distance value: the [q, n] block itself plus headroom for libtorch's temporaries (topk workspace).</summary>
    private const int BlockCopies = 3;

    /// <summary>Host-to-device copies go in pieces of at most this many bytes (a TorchSharp byte span is int-sized).</summary>
    private const long CopyPieceBytes = 256L << 20;

    private readonly Device _device;
    private readonly long _workBudgetBytes;
    private Tensor? _bank;       // [N, D] float32 on _device
    private Tensor? _bankNorms;  // [N] float32 on _device: ||y||^2
    private bool _disposed;

    /// <param name="dimension">Vector length D.</param>
    /// <param name="device">Where the bank lives and the distances are computed.</param>
    /// <param name="workBudgetBytes">Bytes one chunk of work may use; default <see cref="ComputeDevice.DefaultWorkBudgetBytes"/>.</param>
    public TorchExactIndex(int dimension, Device device, long? workBudgetBytes = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentNullException.ThrowIfNull(device);
        if (workBudgetBytes is < 1)
            throw new ArgumentOutOfRangeException(nameof(workBudgetBytes), workBudgetBytes, "The work budget must be positive.");
        Dimension = dimension;
        _device = device;
        _workBudgetBytes = workBudgetBytes ?? ComputeDevice.DefaultWorkBudgetBytes(device);
    }

    public int Dimension { get; }

    public long Count => _bank?.shape[0] ?? 0;

    public Device Device => _device;

    public void Add(ReadOnlySpan<float> vectors)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long n = Rows(vectors.Length, nameof(vectors));
        if (n == 0)
            return;
        using var scope = NewDisposeScope();
        Append(FromHost(vectors, n, Dimension));
    }

    /// <summary>Adds the rows of a [n, Dimension] tensor on any device (it is copied to this index's device as float32).</summary>
    public void Add(Tensor vectors)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.dim() != 2 || vectors.shape[1] != Dimension)
            throw new ArgumentException($"Expected a [n, {Dimension}] tensor, got [{string.Join(", ", vectors.shape)}].", nameof(vectors));
        if (vectors.shape[0] == 0)
            return;
        using var scope = NewDisposeScope();
        Append(vectors);
    }

    public void Search(ReadOnlySpan<float> queries, int k, Span<float> distances, Span<long> labels)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long nq = IndexArguments.CheckSearch(Dimension, queries, k, distances, labels);
        if (nq == 0)
            return;

        using var scope = NewDisposeScope();
        Tensor query = FromHost(queries, nq, Dimension);
        var (d, l) = SearchTensors(query, k);
        using Tensor dHost = d.cpu().contiguous();
        using Tensor lHost = l.cpu().contiguous();
        MemoryMarshal.Cast<byte, float>(dHost.bytes).CopyTo(distances);
        MemoryMarshal.Cast<byte, long>(lHost.bytes).CopyTo(labels);
    }

    /// <summary>
    /// k nearest neighbours of the rows of a [nq, Dimension] tensor (on any device): squared distances [nq, k] float32
    /// and labels [nq, k] int64, on this index's device, owned by the caller's dispose scope. Where the bank holds
    /// fewer than k vectors the missing columns get distance float.MaxValue and label -1, as FAISS gives.
    /// </summary>
    public (Tensor Distances, Tensor Labels) Search(Tensor queries, int k)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (queries.dim() != 2 || queries.shape[1] != Dimension)
            throw new ArgumentException($"Expected a [nq, {Dimension}] tensor, got [{string.Join(", ", queries.shape)}].", nameof(queries));

        using var scope = NewDisposeScope();
        var (d, l) = SearchTensors(queries, k);
        return (d.MoveToOuterDisposeScope(), l.MoveToOuterDisposeScope());
    }

    /// <summary>Query rows and bank rows per distance block for <paramref name="queryCount"/> queries (rows x rows x 4 bytes x 3 within the budget).</summary>
    internal (int QueryRows, int BankRows) ChunkShape(long queryCount)
    {
        long bankCount = Math.Max(1, Count);
        long elements = Math.Max(1, _workBudgetBytes / (sizeof(float) * BlockCopies));
        long minQueries = Math.Clamp(queryCount, 1, MinQueryRows);
        if (elements / bankCount >= minQueries)
        {
            long rows = Math.Clamp(elements / bankCount, 1, Math.Max(1, queryCount));
            return ((int)Math.Min(rows, int.MaxValue), (int)Math.Min(bankCount, int.MaxValue));
        }
        long bankRows = Math.Clamp(elements / minQueries, 1, bankCount);
        return ((int)minQueries, (int)bankRows);
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _bank?.Dispose();
        _bankNorms?.Dispose();
        _bank = null;
        _bankNorms = null;
    }

    // Orchestration: query chunks x bank chunks, each block reduced to its k best and merged into the running best.
    private (Tensor Distances, Tensor Labels) SearchTensors(Tensor queries, int k)
    {
        using var noGrad = no_grad();
        long nq = queries.shape[0];
        Tensor query = queries.to(ScalarType.Float32, _device);
        if (_bank is null || _bankNorms is null || nq == 0)
            return Missing(nq, k, 0);

        long bankCount = _bank.shape[0];
        var (queryRows, bankRows) = ChunkShape(nq);
        var distanceParts = new List<Tensor>();
        var labelParts = new List<Tensor>();
        for (long q0 = 0; q0 < nq; q0 += queryRows)
        {
            using var queryScope = NewDisposeScope();
            long qn = Math.Min(queryRows, nq - q0);
            Tensor x = query.narrow(0, q0, qn);                       // [qn, D]
            Tensor xNorms = x.square().sum(1, keepdim: true);         // [qn, 1]
            Tensor? best = null, bestLabels = null;
            for (long b0 = 0; b0 < bankCount; b0 += bankRows)
            {
                using var bankScope = NewDisposeScope();
                long bn = Math.Min(bankRows, bankCount - b0);
                var (d, l) = BlockTopK(x, xNorms, _bank.narrow(0, b0, bn), _bankNorms.narrow(0, b0, bn), k);
                l.add_(b0);
                if (best is null)
                {
                    (best, bestLabels) = (d, l);
                }
                else
                {
                    var (previous, previousLabels) = (best, bestLabels!);
                    (best, bestLabels) = Merge(previous, previousLabels, d, l, k);
                    previous.Dispose();
                    previousLabels.Dispose();
                }
                best.MoveToOuterDisposeScope();
                bestLabels!.MoveToOuterDisposeScope();
            }
            if (best!.shape[1] < k)
            {
                var (padD, padL) = Missing(qn, k, best.shape[1]);
                best = cat([best, padD], 1);                          // [qn, kk] + [qn, k - kk] -> [qn, k]
                bestLabels = cat([bestLabels!, padL], 1);
            }
            distanceParts.Add(best.MoveToOuterDisposeScope());
            labelParts.Add(bestLabels!.MoveToOuterDisposeScope());
        }
        return (cat(distanceParts, 0), cat(labelParts, 0));         // chunks of [qn, k] -> [nq, k]
    }

    // Maths: squared distances of one query block to one bank block, ||x||^2 - 2 x.y + ||y||^2, and its k smallest.
    private static (Tensor Distances, Tensor Labels) BlockTopK(Tensor x, Tensor xNorms, Tensor y, Tensor yNorms, int k)
    {
        // addmm(self=[1, bn] broadcast, x=[qn, D], y^T=[D, bn]) -> [qn, bn] = ||y||^2 - 2 x.y
        Tensor block = yNorms.unsqueeze(0).addmm(x, y.t(), beta: 1, alpha: -2);
        block.add_(xNorms).clamp_min_(0);                             // + ||x||^2 [qn, 1]; rounding can go below 0
        int kk = (int)Math.Min(k, y.shape[0]);
        var (values, indices) = block.topk(kk, dim: 1, largest: false, sorted: true);   // [qn, kk]
        return (values, indices);
    }

    private static (Tensor Distances, Tensor Labels) Merge(Tensor best, Tensor bestLabels, Tensor d, Tensor l, int k)
    {
        Tensor allD = cat([best, d], 1);                               // [qn, k1 + k2]
        Tensor allL = cat([bestLabels, l], 1);
        int kk = (int)Math.Min(k, allD.shape[1]);
        var (values, positions) = allD.topk(kk, dim: 1, largest: false, sorted: true);  // [qn, kk]
        return (values, allL.gather(1, positions));
    }

    private (Tensor Distances, Tensor Labels) Missing(long rows, int k, long have)
    {
        long width = k - have;
        return (full([rows, width], float.MaxValue, ScalarType.Float32, _device),
                full([rows, width], -1L, ScalarType.Int64, _device));
    }

    private void Append(Tensor vectors)
    {
        Tensor rows = vectors.to(ScalarType.Float32, _device).contiguous();  // [n, D]
        Tensor norms = rows.square().sum(1);                                     // [n]
        Tensor bank = _bank is null ? rows.clone() : cat([_bank, rows], 0);      // [N + n, D]
        Tensor bankNorms = _bankNorms is null ? norms.clone() : cat([_bankNorms, norms], 0);
        _bank?.Dispose();
        _bankNorms?.Dispose();
        _bank = bank.DetachFromDisposeScope();
        _bankNorms = bankNorms.DetachFromDisposeScope();
    }

    /// <summary>A [n, Dimension] float32 CPU tensor holding a copy of the span, filled piece by piece.</summary>
    internal static Tensor FromHost(ReadOnlySpan<float> values, long n, int dimension, long pieceBytes = CopyPieceBytes)
    {
        Tensor host = empty([n, dimension], ScalarType.Float32);         // [n, D] on CPU
        long rowsPerPiece = Math.Max(1, pieceBytes / (dimension * (long)sizeof(float)));
        for (long r0 = 0; r0 < n; r0 += rowsPerPiece)
        {
            long rn = Math.Min(rowsPerPiece, n - r0);
            using Tensor piece = host.narrow(0, r0, rn);
            var source = values.Slice((int)(r0 * dimension), (int)(rn * dimension));
            source.CopyTo(MemoryMarshal.Cast<byte, float>(piece.bytes));
        }
        return host;
    }

    private long Rows(int length, string parameterName) => IndexArguments.Rows(length, Dimension, parameterName);
}
