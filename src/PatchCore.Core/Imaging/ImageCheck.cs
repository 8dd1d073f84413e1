namespace PatchCore.Core.Imaging;

/// <summary>
/// Whether a file is an image the detector can read, without scoring it: the same checks and decode as scoring
/// (<see cref="ImageDecoder"/>: format, size limit, truncation), the pixels then dropped. Hosts use it to check images
/// before they feed them to slow work (an update's feedback images).
/// </summary>
public static class ImageCheck
{
    /// <summary>Returns the image's width and height.</summary>
    /// <exception cref="ImageLoadException">The file is missing, unreadable, not an image, too large or truncated (it names the file and the problem).</exception>
    public static (int Width, int Height) Check(string path, long maxPixels = ImageDecoder.DefaultMaxPixels)
    {
        using var image = ImageDecoder.LoadRgb(path, ImageDecoder.ReadFile(path), maxPixels);
        return (image.Width, image.Height);
    }
}
