using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PatchCore.Core.Embedding;

/// <summary>
/// One layer's share of the paper embedding, out[r] = sum over (c, k) of w[r, c, k] * u[c * p*p + k] for the output rows
/// <see cref="FirstRow"/> .. <see cref="FirstRow"/> + <see cref="Rows"/> - 1, computed as a grouped p x p convolution of
/// the layer's own map instead of a mix of its unfolded channels: unfolded channel c * p*p + k is channel c shifted to
/// window position k, which is what a convolution's tap k reads (with the same zero padding).
/// <para>
/// Each output row reads a few consecutive unfolded channels, so a few consecutive layer channels from its lowest, c0.
/// Rows are grouped by c0: when the c0 of all rows are 0, g, 2g, ... (C / g groups), group i reads the <see cref="Span"/>
/// channels i*g .. i*g + Span - 1 (zeros past the last) and computes <see cref="SlotsPerGroup"/> rows, otherwise each
/// channel is a group (g = 1). Slots a group does not need have zero weights and are dropped after the convolution.
/// </para>
/// Nothing as large as the unfolded tensor (p*p times the layer) is made: the largest temporary is the layer's channels
/// gathered group by group (about Span / g times the layer), laid out channels-last like the backbone's maps.
/// </summary>
internal sealed class GroupedWindowMix
{
    private GroupedWindowMix(int channels, int patchSize, int groupStep, int span, int slotsPerGroup, float[] weights, long[]? usedSlots, int firstRow, int rows)
    {
        Channels = channels;
        PatchSize = patchSize;
        GroupStep = groupStep;
        Span = span;
        SlotsPerGroup = slotsPerGroup;
        Weights = weights;
        UsedSlots = usedSlots;
        FirstRow = firstRow;
        Rows = rows;
    }

    /// <summary>The layer's channels C.</summary>
    public int Channels { get; }
    public int PatchSize { get; }
    /// <summary>Channels between the first channels of consecutive groups, g.</summary>
    public int GroupStep { get; }
    public int Groups => Channels / GroupStep;
    /// <summary>Consecutive layer channels one group reads, S.</summary>
    public int Span { get; }
    /// <summary>Output slots per group, K.</summary>
    public int SlotsPerGroup { get; }
    /// <summary>Convolution weights [Groups*K, S, p, p], row-major.</summary>
    public float[] Weights { get; }
    /// <summary>The slots that are rows, in row order (null: every slot is).</summary>
    public long[]? UsedSlots { get; }
    /// <summary>The first output row this layer contributes to; its rows are consecutive.</summary>
    public int FirstRow { get; }
    /// <summary>Output rows this layer contributes to.</summary>
    public int Rows { get; }

    /// <param name="weightsByRow">Per output row: unfolded channel (c * p*p + k) -> weight; rows without any are not this layer's.</param>
    public static GroupedWindowMix From(IReadOnlyList<Dictionary<int, double>> weightsByRow, int channels, int patchSize)
    {
        int window = patchSize * patchSize;
        var rows = Enumerable.Range(0, weightsByRow.Count).Where(r => weightsByRow[r].Count > 0).ToArray();
        if (rows.Length > 0 && rows[^1] - rows[0] + 1 != rows.Length)
            throw new ArgumentException($"A layer's output rows must be consecutive, got {rows.Length} rows from {rows[0]} to {rows[^1]}.", nameof(weightsByRow));
        var lowest = rows.Select(r => weightsByRow[r].Keys.Min() / window).ToArray();
        int step = StepBetweenGroups(lowest.Distinct().ToArray(), channels);
        int groups = channels / step;
        // a group starts at its rows' lowest channel (i * g), so S is the widest reach from there, and at least 2:
        // libtorch 2.10's CPU convolution of a channels-last input with one input channel per group and several outputs
        // per group (resnet18's layer2 here: S = 1, K = 4) returned wrong values (off by up to 22 against the same
        // convolution of contiguous input); with 2 input channels per group it agrees to 1e-5, and a zero-weighted
        // extra channel costs little. The equality tests against the paper's sequence guard this.
        int span = Math.Max(2, rows.Length == 0 ? 1 : rows.Select((r, i) => weightsByRow[r].Keys.Max() / window - lowest[i] + 1).Max());
        int slots = rows.Length == 0 ? 0 : lowest.GroupBy(c => c).Max(g => g.Count());
        var weights = new float[groups * slots * span * window];
        var used = new long[rows.Length];
        var filled = new int[groups];
        for (int i = 0; i < rows.Length; i++)
        {
            int group = lowest[i] / step, slot = group * slots + filled[group]++;
            used[i] = slot;
            foreach (var (column, weight) in weightsByRow[rows[i]])
            {
                // unfolded channel -> (layer channel, window position); the group's input s is layer channel group*g + s
                int s = column / window - group * step, k = column % window;
                weights[(slot * span + s) * window + k] = (float)weight;
            }
        }
        bool everySlot = used.Length == groups * slots;
        return new GroupedWindowMix(channels, patchSize, step, span, slots, weights, everySlot ? null : used, rows.Length == 0 ? 0 : rows[0], rows.Length);
    }

    /// <summary>g when the rows' lowest channels (ascending: the pooling bins move forward with the row) are exactly 0, g, 2g, .. C - g; else 1.</summary>
    private static int StepBetweenGroups(int[] firsts, int channels)
    {
        if (firsts.Length < 2) return 1;
        int g = firsts[1] - firsts[0];
        return g > 1 && channels % g == 0 && firsts.Length == channels / g && firsts.Select((c, i) => c == i * g).All(x => x) ? g : 1;
    }

    /// <summary>
    /// A layer map [B, C, H, W] (channels-last storage or not) -> this layer's rows [B, Rows, H, W], in the caller's
    /// dispose scope. Call only when <see cref="Rows"/> is positive.
    /// </summary>
    public Tensor Apply(Tensor layer)
    {
        long b = layer.shape[0], c = layer.shape[1], h = layer.shape[2], w = layer.shape[3];
        if (c != Channels) throw new ArgumentException($"This mix is for {Channels} channels, got [{string.Join(",", layer.shape)}].", nameof(layer));
        // [B, C, H, W] -> [B, H, W, C] (a view of channels-last storage) -> zeros past the last channel [B, H, W, C']
        Tensor padded = F.pad(layer.permute(0, 2, 3, 1), [0, Span - 1]);
        // group i's input s is channel i*g + s: S strided views [B, H, W, Groups] -> [B, H, W, Groups, S] -> [B, H, W, Groups*S]
        Tensor gathered = stack(Enumerable.Range(0, Span).Select(s => padded.slice(3, s, s + Groups * GroupStep, GroupStep)).ToArray(), dim: 4)
            .reshape(b, h, w, Groups * Span);
        // [B, H, W, Groups*S] -> [B, Groups*S, H, W] in channels-last storage, the layout oneDNN's grouped kernels run fastest on
        Tensor input = gathered.permute(0, 3, 1, 2);
        // [Groups*K, S, p, p]
        Tensor weight = tensor(Weights, [Groups * SlotsPerGroup, Span, PatchSize, PatchSize], dtype: layer.dtype, device: layer.device);
        int pad = PatchSize / 2;
        // [B, Groups*K, H, W] -> the slots that are rows, in row order: [B, Rows, H, W]
        Tensor mixed = F.conv2d(input, weight, padding: [pad, pad], groups: Groups);
        return UsedSlots is null ? mixed : mixed.index_select(1, tensor(UsedSlots, device: layer.device));
    }
}
