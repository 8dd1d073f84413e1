namespace PatchCore.Core.Sampling;

/// <summary>The seeded Gaussian projection matrix P [D, K], entries N(0, 1/K), identical on every device.</summary>
internal static class RandomProjection
{
    /// <summary>Row-major [inputDim, outputDim]. Drawn in C# (Box-Muller on System.Random) rather than with torch's
    /// generator so that the matrix depends on the seed alone, not on the device or the libtorch build.</summary>
    public static float[] Create(int inputDim, int outputDim, int seed)
    {
        var random = new Random(seed);
        var matrix = new float[(long)inputDim * outputDim];
        double scale = 1.0 / Math.Sqrt(outputDim);
        for (int i = 0; i < matrix.Length; i += 2)
        {
            double u1 = 1.0 - random.NextDouble(); // (0, 1]
            double u2 = random.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1)) * scale;
            matrix[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < matrix.Length)
                matrix[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
        }
        return matrix;
    }
}
