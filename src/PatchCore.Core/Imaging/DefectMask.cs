using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace PatchCore.Core.Imaging;

/// <summary>The binary defect mask of a scored image: white where a reported region is, black elsewhere, at the original image's size.</summary>
internal static class DefectMask
{
    /// <param name="regionPixels">Model-input pixels of the reported regions (1 = defect); null = no regions (an all-black mask).</param>
    public static void WritePng(DecodedImage image, byte[]? regionPixels, string path)
    {
        using var mask = new Image<L8>(image.Width, image.Height);
        if (regionPixels is not null)
        {
            mask.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < rows.Height; y++)
                {
                    Span<L8> row = rows.GetRowSpan(y);
                    for (int x = 0; x < row.Length; x++)
                    {
                        int i = MapProjection.NearestInputIndex(image, x, y);
                        if (i >= 0 && regionPixels[i] != 0) row[x] = new L8(255);
                    }
                }
            });
        }
        PngWriter.Write(mask, path);
    }
}
