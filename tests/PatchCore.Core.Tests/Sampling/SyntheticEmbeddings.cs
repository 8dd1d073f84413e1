using PatchCore.Core.Sampling;

namespace PatchCore.Core.Tests.Sampling;

/// <summary>Seeded synthetic embedding sets for the sampler tests (row-major [n, dim]).</summary>
internal static class SyntheticEmbeddings
{
    /// <summary>Isotropic Gaussian blobs: centres ~ N(0, spread^2) per coordinate, rows = centre + N(0, noise^2).</summary>
    public static float[] Blobs(int n, int dim, int clusters, float spread, float noise, int seed)
    {
        var centres = Gaussian(clusters * dim, spread, new Random(seed));
        var rows = new float[n * dim];
        Parallel.For(0, n, i =>
        {
            var random = new Random(unchecked(seed * 1_000_003 + i));
            int c = random.Next(clusters);
            for (int k = 0; k < dim; k++)
                rows[i * dim + k] = centres[c * dim + k] + noise * NextGaussian(random);
        });
        return rows;
    }

    /// <summary>Clusters on low-rank subspaces (centre + basis z + small noise), closer to CNN patch features.</summary>
    public static float[] LowRankClusters(int n, int dim, int clusters, int rank, int seed)
    {
        var random = new Random(seed);
        var centres = Gaussian(clusters * dim, 1f, random);
        var bases = Gaussian(clusters * rank * dim, 0.3f, random);
        var rows = new float[n * dim];
        Parallel.For(0, n, i =>
        {
            var r = new Random(unchecked(seed * 1_000_003 + i));
            int c = r.Next(clusters);
            Span<float> z = stackalloc float[rank];
            for (int j = 0; j < rank; j++) z[j] = NextGaussian(r);
            for (int k = 0; k < dim; k++)
            {
                float v = centres[c * dim + k] + 0.02f * NextGaussian(r);
                for (int j = 0; j < rank; j++) v += z[j] * bases[(c * rank + j) * dim + k];
                rows[i * dim + k] = v;
            }
        });
        return rows;
    }

    public static CandidateStore Store(float[] rows, int dim, CoresetOptions options, int batchRows = 1000, CandidateStoreOptions? storage = null)
    {
        var store = new CandidateStore(dim, (storage ?? new CandidateStoreOptions()) with { ProjectionDim = options.ProjectionDim, Seed = options.Seed });
        for (int first = 0; first < rows.Length / dim; first += batchRows)
        {
            int take = Math.Min(batchRows, rows.Length / dim - first);
            store.Append(rows.AsSpan(first * dim, take * dim));
        }
        return store;
    }

    public static float[] Gaussian(int count, float scale, Random random)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = scale * NextGaussian(random);
        return values;
    }

    public static float NextGaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
