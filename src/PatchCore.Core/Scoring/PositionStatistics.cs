namespace PatchCore.Core.Scoring;

/// <summary>
/// What held-out good images' anomaly maps show at each place, for <see cref="ImageScoreRule.Position"/>: the maps
/// [Height, Width] are averaged over cells of <see cref="Cell"/> x <see cref="Cell"/> pixels, giving a grid
/// [GridHeight, GridWidth]; per grid cell the mean and standard deviation over the images. The mean is kept as it is
/// (it follows sharp structures every good part has, such as an edge). The deviation, which few images estimate
/// poorly, is smoothed with a Gaussian of <see cref="SmoothingCells"/> cells (it shares the estimate with the
/// neighbours) and floored at <see cref="FloorShare"/> of its median over the grid (a place where the good images
/// happened to agree must not turn noise into a large score). An image's score is then
/// max over its cells of (cell value - mean) / deviation: how far its most unusual place stands above good parts at
/// that place. The maths only: no I/O, no image types.
/// </summary>
public sealed record PositionStatistics
{
    /// <summary>Map pixels per grid cell side.</summary>
    public const int DefaultCell = 4;
    /// <summary>Gaussian sigma of the deviation's smoothing, in cells (8 map pixels: one layer2 patch).</summary>
    public const double DefaultSmoothingCells = 2.0;
    /// <summary>The deviation is at least this share of its median over the grid.</summary>
    public const double FloorShare = 0.5;
    /// <summary>Fewest held-out maps the statistics are taken from.</summary>
    public const int MinImages = 8;

    /// <summary>Anomaly-map size the statistics belong to (the model input size).</summary>
    public required int Width { get; init; }
    public required int Height { get; init; }
    public int Cell { get; init; } = DefaultCell;
    public double SmoothingCells { get; init; } = DefaultSmoothingCells;
    /// <summary>Held-out good maps the statistics come from.</summary>
    public required int Images { get; init; }
    /// <summary>Mean per cell, row-major [GridHeight, GridWidth].</summary>
    public required float[] Mean { get; init; }
    /// <summary>Smoothed and floored standard deviation per cell, row-major [GridHeight, GridWidth].</summary>
    public required float[] Deviation { get; init; }

    public int GridWidth => CellsAlong(Width, Cell);
    public int GridHeight => CellsAlong(Height, Cell);

    /// <summary>What is wrong with statistics read from a bank file (null: nothing): sizes, lengths, deviations.</summary>
    public string? Problem() =>
        Width < 1 || Height < 1 || Cell < 1 ? $"position statistics for a {Width}x{Height} map in cells of {Cell}"
        : Mean is null || Deviation is null || Mean.Length != GridWidth * GridHeight || Deviation.Length != Mean.Length
            ? $"position statistics hold {Mean?.Length ?? 0} means and {Deviation?.Length ?? 0} deviations, a {Width}x{Height} map in cells of {Cell} needs {GridWidth * GridHeight} of each"
        : Deviation.Any(d => !(d > 0) || float.IsInfinity(d)) || Mean.Any(m => !float.IsFinite(m)) ? "position statistics hold a deviation that is not positive, or a mean that is not finite"
        : null;

    private static int CellsAlong(int pixels, int cell) => (pixels + cell - 1) / cell;

    /// <summary>
    /// A map [height, width] averaged over cells [GridHeight, GridWidth] (edge cells over the pixels they hold). With
    /// <paramref name="inspected"/> only inspected pixels count, and a cell without any is NaN (never scored).
    /// </summary>
    public static float[] Pool(ReadOnlySpan<float> map, int width, int height, bool[]? inspected, int cell = DefaultCell)
    {
        if (map.Length != width * height) throw new ArgumentException($"A {width}x{height} map needs {width * height} values, got {map.Length}.", nameof(map));
        int gw = CellsAlong(width, cell), gh = CellsAlong(height, cell);
        var sum = new double[gw * gh];
        var count = new int[gw * gh];
        for (int y = 0; y < height; y++)
        {
            int row = y / cell * gw;
            for (int x = 0; x < width; x++)
            {
                int i = y * width + x;
                if (inspected is not null && !inspected[i]) continue;
                sum[row + x / cell] += map[i];
                count[row + x / cell]++;
            }
        }
        var pooled = new float[gw * gh];
        for (int c = 0; c < pooled.Length; c++) pooled[c] = count[c] == 0 ? float.NaN : (float)(sum[c] / count[c]);
        return pooled;
    }

    /// <summary>The statistics of pooled good maps (<see cref="Pool"/>, all of one map size); NaN cells are left out per cell.</summary>
    public static PositionStatistics Fit(IReadOnlyList<float[]> pooledMaps, int width, int height, int cell = DefaultCell, double smoothingCells = DefaultSmoothingCells)
    {
        if (pooledMaps.Count < 2) throw new ArgumentException($"At least 2 maps are needed, got {pooledMaps.Count}.", nameof(pooledMaps));
        int gw = CellsAlong(width, cell), gh = CellsAlong(height, cell), n = gw * gh;
        var mean = new float[n];
        var deviation = new float[n];
        var measured = new bool[n];
        for (int c = 0; c < n; c++)
        {
            double s = 0, q = 0;
            int k = 0;
            foreach (var map in pooledMaps)
            {
                if (map.Length != n) throw new ArgumentException($"Pooled maps must have {n} cells ({width}x{height} in cells of {cell}), got {map.Length}.", nameof(pooledMaps));
                float v = map[c];
                if (float.IsNaN(v)) continue;
                s += v; q += (double)v * v; k++;
            }
            double m = k == 0 ? 0 : s / k;
            mean[c] = (float)m;
            measured[c] = k >= 2;
            deviation[c] = measured[c] ? (float)Math.Sqrt(Math.Max(0, (q - k * m * m) / (k - 1))) : 0f;
        }
        // cells no image measured (outside the region of interest) take the median deviation, so the smoothing does
        // not pull their inspected neighbours' deviation towards zero
        var valid = deviation.Where((_, c) => measured[c]).Order().ToArray();
        float median = valid.Length == 0 ? 0f : valid[valid.Length / 2];
        for (int c = 0; c < n; c++) if (!measured[c]) deviation[c] = median;
        GaussianBlur.Apply(deviation, gw, gh, smoothingCells);
        var sorted = deviation.Where((_, c) => measured[c]).Order().DefaultIfEmpty(median).ToArray();
        float floor = Math.Max((float)(FloorShare * sorted[sorted.Length / 2]), 1e-6f);
        for (int c = 0; c < n; c++) deviation[c] = Math.Max(deviation[c], floor);
        return new PositionStatistics { Width = width, Height = height, Cell = cell, SmoothingCells = smoothingCells, Images = pooledMaps.Count, Mean = mean, Deviation = deviation };
    }

    /// <summary>
    /// Each map's score against statistics fitted on all the other maps: the out-of-sample scores of the held-out
    /// images themselves, so thresholds taken from them are not set by images scored against their own statistics.
    /// </summary>
    public static double[] LeaveOneOutScores(IReadOnlyList<float[]> pooledMaps, int width, int height, int cell = DefaultCell, double smoothingCells = DefaultSmoothingCells)
    {
        var scores = new double[pooledMaps.Count];
        for (int i = 0; i < pooledMaps.Count; i++)
        {
            var others = pooledMaps.Where((_, j) => j != i).ToArray();
            scores[i] = Fit(others, width, height, cell, smoothingCells).ScorePooled(pooledMaps[i]);
        }
        return scores;
    }

    /// <summary>The score of an anomaly map [Height, Width]; <paramref name="inspected"/> (per pixel) limits it to the region of interest.</summary>
    public double Score(ReadOnlySpan<float> map, int width, int height, bool[]? inspected = null)
    {
        if (width != Width || height != Height)
            throw new PatchCoreException($"The image score by position needs {Width}x{Height} anomaly maps (the held-out images' size), this image's is {width}x{height}: the bank's geometry must give every image one input size.");
        return ScorePooled(Pool(map, width, height, inspected, Cell));
    }

    /// <summary>max over cells of (pooled - mean) / deviation; cells that are NaN are skipped (negative infinity when all are).</summary>
    public double ScorePooled(ReadOnlySpan<float> pooled)
    {
        if (pooled.Length != Mean.Length) throw new ArgumentException($"Expected {Mean.Length} cells, got {pooled.Length}.", nameof(pooled));
        double best = double.NegativeInfinity;
        for (int c = 0; c < pooled.Length; c++)
        {
            if (float.IsNaN(pooled[c])) continue;
            best = Math.Max(best, (pooled[c] - Mean[c]) / Deviation[c]);
        }
        return best;
    }
}
