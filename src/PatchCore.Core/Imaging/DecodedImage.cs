using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace PatchCore.Core.Imaging;

/// <summary>
/// One image decoded and brought to model geometry: the model-input pixels (RGB, HWC bytes) and what is needed
/// to map an anomaly map back onto the original. Optionally keeps the original pixels for heatmap overlays.
/// </summary>
public sealed class DecodedImage : IDisposable
{
    internal DecodedImage(string sourcePath, int width, int height, int resizedWidth, int resizedHeight,
        int cropLeft, int cropTop, int inputWidth, int inputHeight, byte[] inputRgb, Image<Rgb24>? original)
    {
        SourcePath = sourcePath;
        Width = width;
        Height = height;
        ResizedWidth = resizedWidth;
        ResizedHeight = resizedHeight;
        CropLeft = cropLeft;
        CropTop = cropTop;
        InputWidth = inputWidth;
        InputHeight = inputHeight;
        InputRgb = inputRgb;
        Original = original;
    }

    public string SourcePath { get; }
    /// <summary>Original size.</summary>
    public int Width { get; }
    public int Height { get; }
    public int ResizedWidth { get; }
    public int ResizedHeight { get; }
    public int CropLeft { get; }
    public int CropTop { get; }
    /// <summary>Model input size (after resize and crop).</summary>
    public int InputWidth { get; }
    public int InputHeight { get; }
    /// <summary>Model-input pixels, RGB, row-major HWC, [InputHeight, InputWidth, 3].</summary>
    public byte[] InputRgb { get; }
    /// <summary>The original pixels, when kept for overlays; null otherwise.</summary>
    internal Image<Rgb24>? Original { get; private set; }

    /// <summary>True when the original pixels were kept (overlays are drawn on them).</summary>
    public bool HasOriginal => Original is not null;

    public void Dispose()
    {
        Original?.Dispose();
        Original = null;
    }
}
