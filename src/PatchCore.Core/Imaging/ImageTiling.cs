using System.Globalization;

namespace PatchCore.Core.Imaging;

/// <summary>
/// Tiling of the model input (after the resize, always with the whole image kept): overlapping
/// <see cref="Size"/> x <see cref="Size"/> tiles, <see cref="Overlap"/> pixels shared by neighbours, that cover every
/// pixel; the last tile of a row or column is aligned to the image's edge. Each tile goes through the backbone as its
/// own input, so a large image keeps its resolution while the backbone sees inputs of a fixed size.
/// </summary>
public sealed record ImageTiling
{
    /// <summary>
    /// The overlap when none is given: 32 pixels, two layer3 cells. A patch embedding near a tile's edge sees the
    /// backbone's zero padding (layer3 has stride 16 and the embedding pools 3 x 3 cells), so neighbours share about
    /// that much and every pixel is also seen away from some tile's edge.
    /// </summary>
    public const int DefaultOverlap = 32;

    /// <summary>Smallest tile side: layer3 (stride 16) needs a grid of at least 2 x 2.</summary>
    public const int MinSize = 32;

    public required int Size { get; init; }
    public int Overlap { get; init; } = DefaultOverlap;

    /// <summary>Parses "SIZE" or "SIZE:OVERLAP" (pixels), e.g. "224" or "320:64".</summary>
    public static ImageTiling Parse(string text)
    {
        string t = text.Trim();
        int colon = t.IndexOf(':');
        int size = ParsePixels(colon < 0 ? t : t[..colon], text, "size");
        // small tiles keep at least half of themselves apart from each neighbour
        int overlap = colon < 0 ? Math.Min(DefaultOverlap, size / 2) : ParsePixels(t[(colon + 1)..], text, "overlap");
        var tiling = new ImageTiling { Size = size, Overlap = overlap };
        tiling.Validate();
        return tiling;
    }

    public void Validate()
    {
        if (Size < MinSize || Size % 8 != 0)
            throw new PatchCoreException($"Invalid --tile size {Size}: it must be a multiple of 8 (the layer2 stride) and at least {MinSize} pixels.");
        if (Overlap < 0 || Overlap >= Size)
            throw new PatchCoreException($"Invalid --tile overlap {Overlap}: it must be at least 0 and smaller than the tile size {Size}.");
    }

    /// <summary>The tiles over a model input of <paramref name="width"/> x <paramref name="height"/>.</summary>
    internal TileLayout Layout(int width, int height)
    {
        var xs = Origins(width, out int tileWidth);
        var ys = Origins(height, out int tileHeight);
        var origins = new (int X, int Y)[xs.Length * ys.Length];
        for (int j = 0; j < ys.Length; j++)
            for (int i = 0; i < xs.Length; i++)
                origins[j * xs.Length + i] = (xs[i], ys[j]);
        return new TileLayout(width, height, tileWidth, tileHeight, origins);
    }

    /// <summary>
    /// Tile starts along one side of <paramref name="length"/> pixels: every <c>Size - Overlap</c> pixels, the last one
    /// moved back to end at the edge. A side no longer than a tile is one tile of its own length.
    /// </summary>
    private int[] Origins(int length, out int tileLength)
    {
        if (length <= Size)
        {
            tileLength = length;
            return [0];
        }
        tileLength = Size;
        int step = Size - Overlap;
        var starts = new List<int>();
        for (int s = 0; s + Size < length; s += step) starts.Add(s);
        starts.Add(length - Size);
        return starts.ToArray();
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Size}:{Overlap}");

    private static int ParsePixels(string text, string whole, string what)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v > 16384)
            throw new PatchCoreException($"Invalid --tile '{whole}': the {what} must be a whole number of pixels (SIZE or SIZE:OVERLAP, e.g. 224 or 320:64).");
        return v;
    }
}
