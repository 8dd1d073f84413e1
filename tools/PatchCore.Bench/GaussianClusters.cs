using TorchSharp;
using static TorchSharp.torch;

namespace PatchCore.Bench;

/// <summary>
/// Synthetic embeddings: a mixture of isotropic Gaussians in D dimensions (centres ~ N(0, 1), each row = a
/// uniformly chosen centre + N(0, Spread^2) noise). Rows come in blocks of <see cref="BlockRows"/>; block b of
/// stream s is drawn from its own generator seeded with (seed, s, b), so any process regenerates the same rows.
/// </summary>
internal sealed class GaussianClusters : IDisposable
{
    public const int BlockRows = 16_384;

    private readonly Tensor _centres; // [K, D]
    private readonly int _seed;

    public GaussianClusters(int dimension, int clusters = 512, float spread = 0.5f, int seed = 0)
    {
        Dimension = dimension;
        Clusters = clusters;
        Spread = spread;
        _seed = seed;
        using var generator = new Generator((ulong)Mix(seed, -1, 0));
        _centres = randn([clusters, dimension], generator: generator).DetachFromDisposeScope();
    }

    public int Dimension { get; }
    public int Clusters { get; }
    public float Spread { get; }

    /// <summary>The first <paramref name="count"/> rows of stream <paramref name="stream"/>, block by block, row-major [n, D].</summary>
    public IEnumerable<float[]> Blocks(long count, int stream)
    {
        for (long block = 0; block * BlockRows < count; block++)
        {
            int n = (int)Math.Min(BlockRows, count - block * BlockRows);
            yield return Block(stream, block, n);
        }
    }

    /// <summary>The first <paramref name="count"/> rows of a stream in one array.</summary>
    public float[] Rows(long count, int stream)
    {
        var rows = new float[count * Dimension];
        long offset = 0;
        foreach (float[] block in Blocks(count, stream))
        {
            block.CopyTo(rows, offset);
            offset += block.Length;
        }
        return rows;
    }

    private float[] Block(int stream, long block, int n)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)Mix(_seed, stream, block));
        Tensor which = randint(Clusters, [n], generator: generator);             // [n]
        Tensor noise = randn([n, Dimension], generator: generator).mul_(Spread); // [n, D]
        Tensor rows = _centres.index_select(0, which).add_(noise);               // [n, D]
        return rows.data<float>().ToArray();
    }

    private static long Mix(int seed, int stream, long block) =>
        (long)(((ulong)(uint)seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)(uint)stream * 0xC2B2AE3D27D4EB4FUL) ^ ((ulong)block * 0x165667B19E3779F9UL)) & long.MaxValue;

    public void Dispose() => _centres.Dispose();
}
