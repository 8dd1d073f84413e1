using System.Globalization;
using System.Text.Json.Serialization;

namespace PatchCore.Core.Imaging;

/// <summary>
/// How an image becomes model input: resize (shorter side to <see cref="ShorterSide"/>, exactly
/// <see cref="Width"/> x <see cref="Height"/>, or <see cref="Native"/>: not at all), then an optional centre crop to a
/// square <see cref="Crop"/>, or with the whole image kept an optional cut into overlapping tiles (<see cref="Tile"/>).
/// The default is the paper's: shorter side 256, centre crop 224.
/// </summary>
public sealed record ImageGeometry
{
    /// <summary>Batches of native-size inputs are sized for inputs of this side (larger ones only make a batch use more memory).</summary>
    private const int NominalNativeSide = 1024;

    public int? ShorterSide { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    /// <summary>Images keep their own size (no resize); needs no crop.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Native { get; init; }
    public int? Crop { get; init; }
    /// <summary>The whole (resized) image is cut into these tiles, each its own backbone input; null = one input per image.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ImageTiling? Tile { get; init; }
    /// <summary>The size was chosen from the training images (<see cref="AutoGeometry"/>), not given.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Auto { get; init; }

    public static ImageGeometry Default { get; } = new() { ShorterSide = 256, Crop = 224 };

    /// <summary>
    /// Parses "256" (shorter side), "WxH" (exact) or "native" (no resize); "224" or "none" for the crop; and the tiling
    /// "SIZE[:OVERLAP]" (null = none), which needs crop none.
    /// </summary>
    public static ImageGeometry Parse(string resize, string crop, string? tile = null)
    {
        ImageGeometry g;
        string r = resize.Trim().ToLowerInvariant();
        int x = r.IndexOf('x');
        if (r == "native")
            g = new ImageGeometry { Native = true };
        else if (x < 0)
            g = new ImageGeometry { ShorterSide = ParsePositive(r, "--resize") };
        else
            g = new ImageGeometry { Width = ParsePositive(r[..x], "--resize width"), Height = ParsePositive(r[(x + 1)..], "--resize height") };
        string c = crop.Trim().ToLowerInvariant();
        g = c is "none" or "" ? g : g with { Crop = ParsePositive(c, "--crop") };
        if (tile is not null) g = g with { Tile = ImageTiling.Parse(tile) };
        g.Validate();
        return g;
    }

    public void Validate()
    {
        bool shorter = ShorterSide is not null;
        bool exact = Width is not null || Height is not null;
        if ((shorter ? 1 : 0) + (exact ? 1 : 0) + (Native ? 1 : 0) != 1)
            throw new PatchCoreException("Image geometry needs exactly one of a shorter-side size, an exact WxH size or native (no resize).");
        if (exact && (Width is null || Height is null))
            throw new PatchCoreException("Exact resize needs both width and height.");
        if (Tile is { } tile)
        {
            if (Crop is not null)
                throw new PatchCoreException($"--tile cuts the whole resized image into tiles, so it cannot be combined with --crop {Crop}: use --crop none.");
            tile.Validate();
        }
        if (Native && Crop is not null)
            throw new PatchCoreException("--resize native keeps every image's own size, so it cannot be centre-cropped: use --crop none.");
        if (Auto && !(exact && Crop is null))
            throw new PatchCoreException("An automatic geometry is an exact WxH size with crop none.");
        if (Native) return;
        int minSide = shorter ? ShorterSide!.Value : Math.Min(Width!.Value, Height!.Value);
        if (Crop is { } crop && crop > minSide)
            throw new PatchCoreException($"Crop {crop} is larger than the resized image's shorter side {minSide}.");
        int modelMin = Crop ?? minSide;
        if (modelMin < 32)
            throw new PatchCoreException($"Model input of {modelMin} pixels is too small: at least 32 are needed (layer3 has stride 16).");
    }

    /// <summary>Size after resizing an image of the given size (torchvision's rule for the shorter side).</summary>
    public (int Width, int Height) ResizedSize(int width, int height)
    {
        if (Native) return (width, height);
        if (ShorterSide is not int s) return (Width!.Value, Height!.Value);
        if (width <= height)
            return (s, (int)(s * (long)height / width));
        return ((int)(s * (long)width / height), s);
    }

    /// <summary>Model input size for an original image of the given size.</summary>
    public (int Width, int Height) InputSize(int width, int height)
    {
        if (Crop is int c) return (c, c);
        return ResizedSize(width, height);
    }

    /// <summary>
    /// The size of one backbone input as far as it is known before any image is seen, for sizing batches: a tile, the
    /// crop, the exact size, the shorter side squared, or for native sizes a nominal 1024 x 1024.
    /// </summary>
    internal (int Width, int Height) NominalBackboneInput()
    {
        if (Tile is { } tile) return (tile.Size, tile.Size);
        if (Crop is int c) return (c, c);
        if (Width is int w && Height is int h) return (w, h);
        int side = ShorterSide ?? NominalNativeSide;
        return (side, side);
    }

    /// <summary>Top-left of the centre crop inside the resized image (torchvision's rounding).</summary>
    public (int Left, int Top) CropOffset(int resizedWidth, int resizedHeight)
    {
        if (Crop is not int c) return (0, 0);
        return ((int)Math.Round((resizedWidth - c) / 2.0, MidpointRounding.ToEven),
                (int)Math.Round((resizedHeight - c) / 2.0, MidpointRounding.ToEven));
    }

    /// <summary>The resize as the option reads: "256", "WxH" or "native".</summary>
    public string ResizeText => Native ? "native" : ShorterSide is int s ? s.ToString(CultureInfo.InvariantCulture) : $"{Width}x{Height}";

    /// <summary>The crop as the option reads: "224" or "none".</summary>
    public string CropText => Crop is int c ? c.ToString(CultureInfo.InvariantCulture) : "none";

    public override string ToString() =>
        $"resize {ResizeText}{(Auto ? " (auto)" : "")}, crop {CropText}{(Tile is { } t ? $", tile {t}" : "")}";

    private static int ParsePositive(string text, string what)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v <= 0 || v > 16384)
            throw new PatchCoreException($"Invalid {what} '{text}': expected a positive whole number of pixels{(what == "--resize" ? ", WxH or native" : "")}.");
        return v;
    }
}
