namespace PatchCore.Core.Tests.Search;

/// <summary>Seeded random vectors and a brute-force double-precision k-NN reference for the index tests.</summary>
internal static class VectorData
{
    public static float[] Gaussian(int rows, int dimension, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[rows * dimension];
        for (int i = 0; i < values.Length; i++)
            values[i] = scale * Normal(random);
        return values;
    }

    /// <summary>rows points around <paramref name="clusters"/> well separated centres (centre spread 10, noise 0.5).</summary>
    public static float[] Clustered(int rows, int dimension, int clusters, int seed, int? noiseSeed = null)
    {
        var random = new Random(noiseSeed ?? seed);
        var centres = Gaussian(clusters, dimension, seed + 1, scale: 10f);
        var values = new float[rows * dimension];
        for (int r = 0; r < rows; r++)
        {
            int c = random.Next(clusters);
            for (int j = 0; j < dimension; j++)
                values[r * dimension + j] = centres[c * dimension + j] + 0.5f * Normal(random);
        }
        return values;
    }

    /// <summary>Exact k-NN in double precision: squared distances and labels, [nq, k] row-major.</summary>
    public static (double[] Distances, long[] Labels) BruteForce(float[] bank, float[] queries, int dimension, int k)
    {
        int n = bank.Length / dimension, nq = queries.Length / dimension;
        var distances = new double[nq * k];
        var labels = new long[nq * k];
        var row = new (double Distance, long Label)[n];
        for (int q = 0; q < nq; q++)
        {
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int j = 0; j < dimension; j++)
                {
                    double diff = (double)queries[q * dimension + j] - bank[i * dimension + j];
                    sum += diff * diff;
                }
                row[i] = (sum, i);
            }
            Array.Sort(row, (a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Label.CompareTo(b.Label));
            for (int j = 0; j < k; j++)
                (distances[q * k + j], labels[q * k + j]) = row[j];
        }
        return (distances, labels);
    }

    private static float Normal(Random random)
    {
        // Box-Muller: System.Random has no normal draw.
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }
}
