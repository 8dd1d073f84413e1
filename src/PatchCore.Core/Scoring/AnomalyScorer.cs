using System.Runtime.InteropServices;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using PatchCore.Core.Search;

namespace PatchCore.Core.Scoring;

/// <summary>
/// Patch embeddings in, image scores and anomaly maps out: nearest-neighbour distances to the memory bank (in
/// bounded query chunks), max as image score (optionally Eq. 7 reweighted), bilinear upsampling of the patch grid to
/// the model input and a Gaussian blur.
/// </summary>
internal sealed class AnomalyScorer
{
    /// <summary>Patches re-searched exactly in the first round of <see cref="RefineImageMaxima"/>; each later round doubles it.</summary>
    private const int FirstRefineGroup = 2;

    /// <summary>Largest round of <see cref="RefineImageMaxima"/>.</summary>
    private const int MaxRefineGroup = 64;

    private readonly INearestNeighbourIndex _index;
    private readonly INearestNeighbourIndex? _exactForMaxima;
    private readonly float[] _bank;
    private readonly int _dimension;

    /// <param name="index">Searchable bank.</param>
    /// <param name="bankVectors">The bank's vectors, row-major [N, D] (needed by Eq. 7 reweighting).</param>
    /// <param name="queryChunkRows">Rows searched per call, so query x bank work stays bounded.</param>
    /// <param name="exactForMaxima">
    /// An exact index over the same bank when <paramref name="index"/> is approximate and every distance it reports is
    /// a true distance to a bank row (so never below the exact one): then <see cref="RefineImageMaxima"/> makes each
    /// image score exact by re-searching only its highest patches.
    /// </param>
    public AnomalyScorer(INearestNeighbourIndex index, float[] bankVectors, ScoringOptions options, int queryChunkRows, INearestNeighbourIndex? exactForMaxima = null)
    {
        options.Validate();
        if (bankVectors.Length != index.Count * index.Dimension)
            throw new ArgumentException("Bank vectors do not match the index size.", nameof(bankVectors));
        if (options.NeighbourCount > index.Count)
            throw new PatchCoreException($"k = {options.NeighbourCount} is larger than the bank ({index.Count} vectors).");
        if (exactForMaxima is not null && (exactForMaxima.Count != index.Count || exactForMaxima.Dimension != index.Dimension))
            throw new ArgumentException("The exact index must hold the same bank.", nameof(exactForMaxima));
        _index = index;
        _exactForMaxima = exactForMaxima;
        _bank = bankVectors;
        _dimension = index.Dimension;
        Options = options;
        QueryChunkRows = Math.Max(1, queryChunkRows);
    }

    public ScoringOptions Options { get; }
    public int QueryChunkRows { get; }

    /// <summary>Euclidean patch scores for embeddings [n, D] (row-major): mean over k of sqrt(squared L2).</summary>
    public float[] PatchScores(ReadOnlySpan<float> embeddings) => PatchScores(_index, embeddings);

    private float[] PatchScores(INearestNeighbourIndex index, ReadOnlySpan<float> embeddings)
    {
        int n = embeddings.Length / _dimension, k = Options.NeighbourCount;
        var scores = new float[n];
        int chunk = QueryChunkRows;
        var dist = new float[Math.Min(chunk, n) * k];
        var labels = new long[Math.Min(chunk, n) * k];
        for (int start = 0; start < n; start += chunk)
        {
            int rows = Math.Min(chunk, n - start);
            index.Search(embeddings.Slice(start * _dimension, rows * _dimension), k, dist.AsSpan(0, rows * k), labels.AsSpan(0, rows * k));
            for (int i = 0; i < rows; i++)
            {
                double sum = 0;
                for (int j = 0; j < k; j++) sum += Math.Sqrt(Math.Max(0f, dist[i * k + j]));
                scores[start + i] = (float)(sum / k);
            }
        }
        return scores;
    }

    /// <summary>
    /// Makes the maximum patch score of every image exact after an approximate search (no-op without an exact index).
    /// An approximate patch score is never below the exact one, so the image's patches are re-searched exactly in
    /// descending approximate order, in rounds of 2, 4, 8, ... patches, until the next approximate score cannot beat
    /// the best exact one found: that best is then the exact maximum. (Usually the first round settles it.) Re-searched patches keep their exact scores.
    /// Returns how many patches were re-searched.
    /// </summary>
    /// <param name="patch">Patch scores [B * perImage], updated in place.</param>
    /// <param name="embeddings">The embeddings they came from, [B * perImage, D].</param>
    public int RefineImageMaxima(float[] patch, ReadOnlySpan<float> embeddings, int perImage)
    {
        if (_exactForMaxima is null) return 0;
        int images = patch.Length / perImage, refined = 0;
        var group = new float[MaxRefineGroup * _dimension];
        var order = new int[perImage];
        var keys = new float[perImage];
        for (int b = 0; b < images; b++)
        {
            int first = b * perImage;
            for (int p = 0; p < perImage; p++) { order[p] = first + p; keys[p] = -patch[first + p]; }
            Array.Sort(keys, order);                                   // descending approximate score
            float bestExact = float.NegativeInfinity;
            for (int at = 0, size = FirstRefineGroup; at < perImage && patch[order[at]] > bestExact; at += size, size = Math.Min(2 * size, MaxRefineGroup))
            {
                int n = Math.Min(size, perImage - at);
                for (int j = 0; j < n; j++)
                    embeddings.Slice(order[at + j] * _dimension, _dimension).CopyTo(group.AsSpan(j * _dimension, _dimension));
                float[] exact = PatchScores(_exactForMaxima, group.AsSpan(0, n * _dimension));
                for (int j = 0; j < n; j++)
                {
                    patch[order[at + j]] = exact[j];
                    bestExact = MathF.Max(bestExact, exact[j]);
                }
                refined += n;
            }
        }
        return refined;
    }

    /// <summary>
    /// Image scores and maps of a batch of images of one input size, from their patch scores [B, gridH*gridW]
    /// (<see cref="PatchScores"/>, then <see cref="RefineImageMaxima"/>) and embeddings [B, gridH*gridW, D]. With
    /// <paramref name="tiles"/> each image's patches are those of its tiles, [B, tiles, gridH*gridW] (the grid is a
    /// tile's): the score is the maximum over all of them, and the map is each tile's grid upsampled to the tile,
    /// stitched (<see cref="TileLayout.Stitch"/>: the largest value where tiles overlap) and then blurred as one map.
    /// </summary>
    public Detection[] FromPatchScores(IReadOnlyList<string> sourcePaths, float[] patch, ReadOnlySpan<float> embeddings, int gridWidth, int gridHeight, int inputWidth, int inputHeight,
        TileLayout? tiles = null)
    {
        int perImage = gridWidth * gridHeight * (tiles?.Count ?? 1);
        int b = sourcePaths.Count;
        var result = new Detection[b];
        float[][] maps = tiles is null
            ? UpsampleAndBlur(patch, b, gridWidth, gridHeight, inputWidth, inputHeight)
            : StitchAndBlur(patch, b, gridWidth, gridHeight, tiles);
        for (int i = 0; i < b; i++)
        {
            float[] grid = patch.AsSpan(i * perImage, perImage).ToArray();
            int argmax = ArgMax(grid);
            double score = grid[argmax];
            if (Options.Reweight)
                score *= ReweightFactor(embeddings.Slice((i * perImage + argmax) * _dimension, _dimension));
            result[i] = new Detection(sourcePaths[i], score, gridWidth, gridHeight, grid, new AnomalyMap(inputWidth, inputHeight, maps[i]));
        }
        return result;
    }

    /// <summary>
    /// Eq. 7 of the paper: w = 1 - exp(||m_test - m*||) / sum over the b nearest bank neighbours m of m* of
    /// exp(||m_test - m||). Computed as 1 - 1 / sum exp(d_m - d*) to avoid overflow.
    /// </summary>
    internal double ReweightFactor(ReadOnlySpan<float> testPatch)
    {
        var d1 = new float[1];
        var l1 = new long[1];
        _index.Search(testPatch, 1, d1, l1);
        long nearest = l1[0];
        double dStar = Math.Sqrt(Math.Max(0, d1[0]));
        int b = (int)Math.Min(Options.ReweightNeighbours, _index.Count);
        var db = new float[b];
        var lb = new long[b];
        _index.Search(_bank.AsSpan((int)(nearest * _dimension), _dimension), b, db, lb);
        double sum = 0;
        foreach (long m in lb)
        {
            if (m < 0) continue;
            double d = Math.Sqrt(SquaredDistance(testPatch, _bank.AsSpan((int)(m * _dimension), _dimension)));
            sum += Math.Exp(d - dStar);
        }
        return sum > 0 ? 1.0 - 1.0 / sum : 1.0;
    }

    /// <summary>Patch grids [B, gh, gw] -> bilinear (align_corners false) to [B, H, W] -> Gaussian blur per map.</summary>
    public float[][] UpsampleAndBlur(float[] patchScores, int batch, int gridWidth, int gridHeight, int inputWidth, int inputHeight)
    {
        float[][] maps = Upsample(patchScores, batch, gridWidth, gridHeight, inputWidth, inputHeight);
        Parallel.For(0, batch, i => GaussianBlur.Apply(maps[i], inputWidth, inputHeight, Options.MapSigma));
        return maps;
    }

    /// <summary>Tile grids [B, tiles, gh, gw] -> bilinear to [B, tiles, th, tw] -> stitched to [B, H, W] -> Gaussian blur per map.</summary>
    private float[][] StitchAndBlur(float[] patchScores, int batch, int gridWidth, int gridHeight, TileLayout tiles)
    {
        // [B * tiles] tile maps, image by image
        float[][] up = Upsample(patchScores, batch * tiles.Count, gridWidth, gridHeight, tiles.TileWidth, tiles.TileHeight);
        var maps = new float[batch][];
        Parallel.For(0, batch, i =>
        {
            maps[i] = tiles.Stitch(new ArraySegment<float[]>(up, i * tiles.Count, tiles.Count));
            GaussianBlur.Apply(maps[i], tiles.ImageWidth, tiles.ImageHeight, Options.MapSigma);
        });
        return maps;
    }

    /// <summary>Patch grids [N, gh, gw] -> bilinear (align_corners false) -> N maps [H, W], row-major, each its own array.</summary>
    private static float[][] Upsample(float[] patchScores, int count, int gridWidth, int gridHeight, int width, int height)
    {
        using var scope = NewDisposeScope();
        // [N*gh*gw] -> [N, 1, gh, gw] -> [N, 1, H, W]
        Tensor grid = tensor(patchScores, [count, 1, gridHeight, gridWidth]);
        Tensor upsampled = F.interpolate(grid, [height, width], mode: InterpolationMode.Bilinear, align_corners: false).contiguous();
        // copied once, straight into the maps the detections keep
        ReadOnlySpan<float> all = MemoryMarshal.Cast<byte, float>(upsampled.bytes);
        int plane = width * height;
        var maps = new float[count][];
        for (int i = 0; i < count; i++) maps[i] = all.Slice(i * plane, plane).ToArray();
        return maps;
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    private static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) { double d = a[i] - b[i]; s += d * d; }
        return s;
    }
}
