using System.Globalization;

namespace PatchCore.Core.Imaging;

/// <summary>
/// How an image becomes model input: resize (shorter side to <see cref="ShorterSide"/>, or exactly
/// <see cref="Width"/> x <see cref="Height"/>), then an optional centre crop to a square <see cref="Crop"/>.
/// The default is the paper's: shorter side 256, centre crop 224.
/// </summary>
public sealed record ImageGeometry
{
    public int? ShorterSide { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    public int? Crop { get; init; }

    public static ImageGeometry Default { get; } = new() { ShorterSide = 256, Crop = 224 };

    /// <summary>Parses "256" (shorter side) or "WxH" (exact), and "224" or "none" for the crop.</summary>
    public static ImageGeometry Parse(string resize, string crop)
    {
        ImageGeometry g;
        string r = resize.Trim().ToLowerInvariant();
        int x = r.IndexOf('x');
        if (x < 0)
        {
            g = new ImageGeometry { ShorterSide = ParsePositive(r, "--resize") };
        }
        else
        {
            g = new ImageGeometry { Width = ParsePositive(r[..x], "--resize width"), Height = ParsePositive(r[(x + 1)..], "--resize height") };
        }
        string c = crop.Trim().ToLowerInvariant();
        g = c is "none" or "" ? g : g with { Crop = ParsePositive(c, "--crop") };
        g.Validate();
        return g;
    }

    public void Validate()
    {
        bool shorter = ShorterSide is not null;
        bool exact = Width is not null || Height is not null;
        if (shorter == exact)
            throw new PatchCoreException("Image geometry needs either a shorter-side size or an exact WxH size, not both.");
        if (exact && (Width is null || Height is null))
            throw new PatchCoreException("Exact resize needs both width and height.");
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

    /// <summary>Top-left of the centre crop inside the resized image (torchvision's rounding).</summary>
    public (int Left, int Top) CropOffset(int resizedWidth, int resizedHeight)
    {
        if (Crop is not int c) return (0, 0);
        return ((int)Math.Round((resizedWidth - c) / 2.0, MidpointRounding.ToEven),
                (int)Math.Round((resizedHeight - c) / 2.0, MidpointRounding.ToEven));
    }

    public override string ToString()
    {
        string resize = ShorterSide is int s ? s.ToString(CultureInfo.InvariantCulture) : $"{Width}x{Height}";
        return $"resize {resize}, crop {(Crop is int c ? c.ToString(CultureInfo.InvariantCulture) : "none")}";
    }

    private static int ParsePositive(string text, string what)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v <= 0 || v > 16384)
            throw new PatchCoreException($"Invalid {what} '{text}': expected a positive whole number of pixels.");
        return v;
    }
}
