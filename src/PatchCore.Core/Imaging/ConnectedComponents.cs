using System.Buffers;

namespace PatchCore.Core.Imaging;

/// <summary>
/// Connected components of a binary mask with 8-connectivity (OpenCV's default, which anomalib's PRO uses).
/// Written here because no .NET library served to this project labels components; a breadth-first flood fill
/// with one reusable queue is enough for masks of a few megapixels.
/// </summary>
internal static class ConnectedComponents
{
    /// <summary>
    /// Writes into <paramref name="labels"/> 0 for background (mask byte 0) and 1..count for each component
    /// (mask byte non-zero), numbered in row-major order of their first pixel; returns each component's size.
    /// </summary>
    public static List<int> Label(ReadOnlySpan<byte> mask, int width, Span<int> labels)
    {
        if (width <= 0 || mask.Length % width != 0)
            throw new ArgumentException($"A mask of {mask.Length} pixels is not a whole number of rows of width {width}.", nameof(width));
        if (labels.Length != mask.Length)
            throw new ArgumentException($"labels holds {labels.Length} entries for {mask.Length} pixels.", nameof(labels));
        int height = mask.Length / width;
        labels.Clear();
        var sizes = new List<int>();
        int[]? queue = null;
        try
        {
        for (int start = 0; start < mask.Length; start++)
        {
            if (mask[start] == 0 || labels[start] != 0)
                continue;
            queue ??= ArrayPool<int>.Shared.Rent(mask.Length); // each pixel enters the queue at most once
            int label = sizes.Count + 1;
            int head = 0, tail = 0;
            queue[tail++] = start;
            labels[start] = label;
            while (head < tail)
            {
                int p = queue[head++];
                int y = p / width, x = p - y * width;
                for (int dy = -1; dy <= 1; dy++)
                {
                    int ny = y + dy;
                    if ((uint)ny >= (uint)height)
                        continue;
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int nx = x + dx;
                        if ((uint)nx >= (uint)width)
                            continue;
                        int q = ny * width + nx;
                        if (mask[q] != 0 && labels[q] == 0)
                        {
                            labels[q] = label;
                            queue[tail++] = q;
                        }
                    }
                }
            }
            sizes.Add(tail);
        }
        }
        finally
        {
            if (queue is not null)
                ArrayPool<int>.Shared.Return(queue);
        }
        return sizes;
    }
}
