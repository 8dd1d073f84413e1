using static TorchSharp.torch;

namespace PatchCore.Core.Embedding;

/// <summary>
/// out[:, r, :] = sum over t of Weights[t][r] * u[:, Columns[t][r], :] for the output rows <see cref="Rows"/>: a channel
/// mix with at most <see cref="Terms"/> inputs per output, padded with zero weights.
/// </summary>
internal sealed class SparseChannelMix
{
    private SparseChannelMix(long[] rows, long[][] columns, float[][] weights)
    {
        Rows = rows;
        Columns = columns;
        Weights = weights;
    }

    /// <summary>Output channels this mix writes.</summary>
    public long[] Rows { get; }
    /// <summary>[Terms][Rows.Length]: the unfolded channel each term of each row reads.</summary>
    public long[][] Columns { get; }
    public float[][] Weights { get; }
    public int Terms => Columns.Length;

    public static SparseChannelMix From(IReadOnlyList<Dictionary<int, double>> weightsByRow)
    {
        var rows = Enumerable.Range(0, weightsByRow.Count).Where(r => weightsByRow[r].Count > 0).ToArray();
        int terms = rows.Length == 0 ? 0 : rows.Max(r => weightsByRow[r].Count);
        var columns = new long[terms][];
        var weights = new float[terms][];
        for (int t = 0; t < terms; t++)
        {
            columns[t] = new long[rows.Length];
            weights[t] = new float[rows.Length];
        }
        for (int i = 0; i < rows.Length; i++)
        {
            int t = 0;
            foreach (var (column, weight) in weightsByRow[rows[i]].OrderBy(kv => kv.Key))
            {
                columns[t][i] = column;
                weights[t][i] = (float)weight;
                t++;
            }
        }
        return new SparseChannelMix(rows.Select(r => (long)r).ToArray(), columns, weights);
    }

    /// <summary>Mixes unfolded features [B, F, L] into [B, Rows.Length, L], in the caller's dispose scope.</summary>
    public Tensor Apply(Tensor unfolded)
    {
        long b = unfolded.shape[0], l = unfolded.shape[2];
        if (Rows.Length == 0) return zeros([b, 0, l], dtype: unfolded.dtype, device: unfolded.device);
        Tensor? sum = null;
        for (int t = 0; t < Terms; t++)
        {
            // [B, F, L] -> [B, R, L], each row scaled by its weight: [R] -> [1, R, 1]
            Tensor selected = unfolded.index_select(1, tensor(Columns[t], device: unfolded.device));
            Tensor weight = tensor(Weights[t], device: unfolded.device, dtype: unfolded.dtype).view(1, -1, 1);
            sum = sum is null ? selected.mul_(weight) : sum.addcmul_(selected, weight, 1);
        }
        return sum!;
    }

    public Tensor RowsTensor(Device device) => tensor(Rows, device: device);
}
