using System.Globalization;
using SixLabors.ImageSharp;

namespace PatchCore.Core.Imaging;

/// <summary>
/// <c>--geometry auto</c>: a geometry chosen from the training images' sizes (file headers only). The whole part is
/// kept (crop none) at the median aspect ratio of the images, at the largest size within a pixel budget and never
/// above the images' own (median) size, each side rounded down to a multiple of 8 (the layer2 stride).
/// </summary>
public static class AutoGeometry
{
    /// <summary>
    /// Model-input pixels at most: 131,072 (512 x 256). That is 2,048 patches per image at layer2's stride of 8, 2.6 x
    /// the 784 of the default 224 x 224 crop. The backbone's time grows with the patches, the nearest-neighbour search
    /// with patches x bank size, and the bank (a share of all training patches) grows with them too, so search time
    /// grows about with their square (about 7 x the default's at the same coreset share). A long part at this budget
    /// keeps 224 pixels across (a 1130 x 460 image becomes 560 x 224), where a square crop keeps 224 of a cut-off middle.
    /// </summary>
    public const long DefaultPixelBudget = 512 * 256;

    /// <summary>Aspect ratios (largest / smallest) beyond this are called out: those images are visibly stretched.</summary>
    private const double AspectSpreadWarning = 1.15;

    /// <summary>
    /// The geometry for <paramref name="images"/>: an exact size, crop none, <see cref="ImageGeometry.Auto"/> set, with
    /// <paramref name="tile"/> (null = no tiling). A file whose header cannot be read is an
    /// <see cref="ImageLoadException"/> naming it.
    /// </summary>
    public static GeometryChoice Choose(IReadOnlyList<string> images, ImageTiling? tile = null, long pixelBudget = DefaultPixelBudget)
    {
        if (images.Count == 0) throw new PatchCoreException("--geometry auto needs training images to choose from.");
        if (pixelBudget < 32 * 32) throw new PatchCoreException($"The pixel budget of --geometry auto must be at least {32 * 32}, got {pixelBudget}.");
        var sizes = images.Select(ReadSize).ToArray();
        double aspect = Median(sizes.Select(s => (double)s.Width / s.Height));
        double medianWidth = Median(sizes.Select(s => (double)s.Width)), medianHeight = Median(sizes.Select(s => (double)s.Height));
        double area = Math.Min(pixelBudget, Median(sizes.Select(s => (double)s.Width * s.Height)));
        double height = Math.Sqrt(area / aspect), width = height * aspect;
        double shrink = Math.Min(1.0, Math.Min(medianWidth / width, medianHeight / height)); // never above the images' own size
        int w = RoundDown8(width * shrink), h = RoundDown8(height * shrink);
        var geometry = new ImageGeometry { Width = w, Height = h, Auto = true, Tile = tile };
        geometry.Validate();

        double minAspect = sizes.Min(s => (double)s.Width / s.Height), maxAspect = sizes.Max(s => (double)s.Width / s.Height);
        string description = string.Create(CultureInfo.InvariantCulture,
            $"{w}x{h}, crop none (median of {sizes.Length} training images: {medianWidth:0}x{medianHeight:0}, aspect {aspect:0.###}; pixel budget {pixelBudget:N0})");
        string? warning = maxAspect / minAspect > AspectSpreadWarning
            ? string.Create(CultureInfo.InvariantCulture,
                $"the training images differ a lot in aspect (width/height {minAspect:0.###} to {maxAspect:0.###}): each is stretched to {w}x{h}; for parts of different shapes build one bank per shape, or use --resize 256 --crop none")
            : null;
        return new GeometryChoice(geometry, description, warning);
    }

    private static (int Width, int Height) ReadSize(string path)
    {
        IImageInfo? info;
        try
        {
            info = Image.Identify(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ImageFormatException or NotSupportedException or InvalidOperationException)
        {
            throw new ImageLoadException(path, $"cannot read the image's size ({ex.Message})", ex);
        }
        if (info is null) throw new ImageLoadException(path, "not an image in a supported format (PNG, JPEG, BMP, TIFF, GIF)");
        if (info.Width <= 0 || info.Height <= 0) throw new ImageLoadException(path, $"image has no pixels ({info.Width}x{info.Height})");
        return (info.Width, info.Height);
    }

    private static int RoundDown8(double side) => Math.Max(32, (int)Math.Floor(side / 8) * 8);

    private static double Median(IEnumerable<double> values) => QuantileRule.QuantileOf<double>(values.Order().ToArray(), 0.5);
}
