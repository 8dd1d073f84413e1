using System.Numerics;

namespace PatchCore.Core.Scoring;

/// <summary>
/// Separable Gaussian blur of a 2-D map, matching scipy.ndimage.gaussian_filter as the paper's code uses it
/// (truncate 4.0, so radius = round(4 sigma); mode 'reflect', i.e. edge-mirrored "d c b a | a b c d").
/// Hand-written: a few lines, exact border rule, and no tensor round trip for a 224x224 map (vectorised: at one scalar
/// multiply-add per tap it took about 3 % of the daemon's CPU, more than the heatmap's blending).
/// </summary>
internal static class GaussianBlur
{
    public static float[] Kernel(double sigma, double truncate = 4.0)
    {
        if (sigma <= 0) throw new ArgumentOutOfRangeException(nameof(sigma), "Sigma must be positive.");
        int radius = (int)(truncate * sigma + 0.5);
        var k = new double[2 * radius + 1];
        double sum = 0;
        for (int i = -radius; i <= radius; i++)
        {
            k[i + radius] = Math.Exp(-0.5 * i * i / (sigma * sigma));
            sum += k[i + radius];
        }
        return k.Select(v => (float)(v / sum)).ToArray();
    }

    /// <summary>
    /// Blurs <paramref name="map"/> ([height, width], row-major) in place: the rows, then the columns. Every output is
    /// the sum over the taps in order of (float) tap x sample, accumulated in double and rounded to float once; the
    /// vector paths compute exactly that, several outputs at a time (a row's neighbouring outputs; a column pass row by
    /// row, so the columns are read along memory instead of gathered), so results equal the scalar rule bit for bit.
    /// </summary>
    public static void Apply(Span<float> map, int width, int height, double sigma)
    {
        if (map.Length != width * height) throw new ArgumentException("Map size does not match width x height.", nameof(map));
        float[] k = Kernel(sigma);
        int r = k.Length / 2;
        // rows: each row mirrored into a padded line [width + 2r], then convolved back into place
        var line = new float[width + 2 * r];
        for (int y = 0; y < height; y++)
        {
            Span<float> row = map.Slice(y * width, width);
            for (int i = -r; i < width + r; i++) line[i + r] = row[Reflect(i, width)];
            ConvolveLine(line, k, row);
        }
        // columns: output row y = sum over taps j of k[j] x (row-blurred) row Reflect(y + j - r), read from a copy
        float[] rows = map.ToArray();
        var acc = new double[width];
        for (int y = 0; y < height; y++)
        {
            Array.Clear(acc);
            for (int j = 0; j < k.Length; j++)
                AccumulateRow(rows.AsSpan(Reflect(y + j - r, height) * width, width), k[j], acc);
            Span<float> target = map.Slice(y * width, width);
            for (int x = 0; x < width; x++) target[x] = (float)acc[x];
        }
    }

    /// <summary>output[i] = sum over j of k[j] x line[i + j] (products in float, sum in double); line holds output.Length + k.Length - 1 samples.</summary>
    private static void ConvolveLine(ReadOnlySpan<float> line, float[] k, Span<float> output)
    {
        int n = output.Length, width = Vector<float>.Count, i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i + width <= n; i += width)
            {
                Vector<double> low = Vector<double>.Zero, high = Vector<double>.Zero;
                for (int j = 0; j < k.Length; j++)
                {
                    Vector.Widen(new Vector<float>(k[j]) * new Vector<float>(line.Slice(i + j, width)), out var l, out var h);
                    low += l;
                    high += h;
                }
                Vector.Narrow(low, high).CopyTo(output.Slice(i, width));
            }
        }
        for (; i < n; i++)
        {
            double sum = 0;
            for (int j = 0; j < k.Length; j++) sum += k[j] * line[i + j];
            output[i] = (float)sum;
        }
    }

    /// <summary>acc[x] += tap x row[x] for every x (product in float, sum in double).</summary>
    private static void AccumulateRow(ReadOnlySpan<float> row, float tap, double[] acc)
    {
        int n = row.Length, width = Vector<float>.Count, x = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var t = new Vector<float>(tap);
            int half = Vector<double>.Count;
            for (; x + width <= n; x += width)
            {
                Vector.Widen(t * new Vector<float>(row.Slice(x, width)), out var low, out var high);
                (new Vector<double>(acc.AsSpan(x, half)) + low).CopyTo(acc.AsSpan(x, half));
                (new Vector<double>(acc.AsSpan(x + half, half)) + high).CopyTo(acc.AsSpan(x + half, half));
            }
        }
        for (; x < n; x++) acc[x] += tap * row[x];
    }

    /// <summary>scipy 'reflect': the edge sample is repeated (half-sample symmetric), period 2n.</summary>
    internal static int Reflect(int i, int n)
    {
        if (n == 1) return 0;
        int period = 2 * n;
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - 1 - i;
    }
}
