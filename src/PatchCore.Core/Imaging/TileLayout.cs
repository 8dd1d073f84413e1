using static TorchSharp.torch;

namespace PatchCore.Core.Imaging;

/// <summary>
/// Where the tiles of one model input lie (<see cref="ImageTiling.Layout"/>): all of one size, row by row, together
/// covering every pixel. Cuts input batches into tiles and stitches the tiles' maps back into one map.
/// </summary>
internal sealed record TileLayout(int ImageWidth, int ImageHeight, int TileWidth, int TileHeight, (int X, int Y)[] Origins)
{
    public int Count => Origins.Length;

    /// <summary>
    /// Cuts a batch of inputs into tiles, image by image: [B, C, H, W] -> [B * Count, C, TileHeight, TileWidth]; tile t
    /// of image b is row <c>b * Count + t</c>. Created in the caller's dispose scope.
    /// </summary>
    public Tensor Cut(Tensor input)
    {
        if (input.shape[2] != ImageHeight || input.shape[3] != ImageWidth)
            throw new ArgumentException($"Input is {input.shape[3]}x{input.shape[2]}, the layout {ImageWidth}x{ImageHeight}.", nameof(input));
        var tiles = Origins.Select(o => input.narrow(2, o.Y, TileHeight).narrow(3, o.X, TileWidth)).ToArray();
        // Count x [B, C, th, tw] -> [B, Count, C, th, tw] -> [B * Count, C, th, tw]
        return stack(tiles, 1).reshape(input.shape[0] * Count, input.shape[1], TileHeight, TileWidth);
    }

    /// <summary>
    /// One map [ImageHeight, ImageWidth] from the maps of the tiles, one [TileHeight, TileWidth] map per tile in
    /// <see cref="Origins"/> order: where tiles overlap a pixel takes the largest of their values, so a defect that
    /// any tile sees keeps its full score and the map's peak is the image's highest patch score.
    /// </summary>
    public float[] Stitch(IReadOnlyList<float[]> tileMaps)
    {
        int plane = TileWidth * TileHeight;
        if (tileMaps.Count != Count || tileMaps.Any(m => m.Length != plane))
            throw new ArgumentException($"Expected {Count} tile maps of {TileWidth}x{TileHeight}, got {tileMaps.Count} maps of {string.Join(", ", tileMaps.Select(m => m.Length).Distinct())} values.", nameof(tileMaps));
        var map = new float[ImageWidth * ImageHeight];
        map.AsSpan().Fill(float.NegativeInfinity);
        for (int t = 0; t < Count; t++)
        {
            var (ox, oy) = Origins[t];
            ReadOnlySpan<float> tile = tileMaps[t];
            for (int y = 0; y < TileHeight; y++)
            {
                var src = tile.Slice(y * TileWidth, TileWidth);
                var dst = map.AsSpan((oy + y) * ImageWidth + ox, TileWidth);
                for (int x = 0; x < TileWidth; x++) dst[x] = MathF.Max(dst[x], src[x]);
            }
        }
        return map;
    }

    /// <summary>A mask of the whole input [ImageHeight, ImageWidth] cut into the tiles' masks, [Count][TileHeight * TileWidth].</summary>
    public bool[][] CutMask(bool[] pixels)
    {
        if (pixels.Length != ImageWidth * ImageHeight)
            throw new ArgumentException($"Mask has {pixels.Length} values, expected {ImageWidth}x{ImageHeight}.", nameof(pixels));
        return Origins.Select(o =>
        {
            var tile = new bool[TileWidth * TileHeight];
            for (int y = 0; y < TileHeight; y++)
                pixels.AsSpan((o.Y + y) * ImageWidth + o.X, TileWidth).CopyTo(tile.AsSpan(y * TileWidth, TileWidth));
            return tile;
        }).ToArray();
    }
}
