using PatchCore.Core.MemoryBank;
using Xunit;
using PatchCore.Core.Search;
using PatchCore.Core.Native;

namespace PatchCore.Core.Tests.Search;

public class FaissIndexTests
{
    private const int Dimension = 32;

    [Theory]
    [InlineData("Flat")]
    [InlineData("IVF16,Flat")]
    [InlineData("HNSW32")]
    public void FileAndBytesRoundTripsGiveIdenticalSearchResults(string factory)
    {
        var bank = VectorData.Clustered(800, Dimension, 16, seed: 1);
        var queries = VectorData.Clustered(50, Dimension, 16, seed: 2);
        using var index = FaissIndex.Create(Dimension, factory);
        index.Add(bank);
        var (d0, l0) = Search(index, queries, k: 3);

        string path = Path.Combine(Path.GetTempPath(), $"faiss-roundtrip-{Guid.NewGuid():N}.index");
        try
        {
            index.Save(path);
            using var fromFile = FaissIndex.Load(path);
            using var fromBytes = FaissIndex.FromBytes(index.ToBytes());
            foreach (var copy in new[] { fromFile, fromBytes })
            {
                Assert.Equal(index.Count, copy.Count);
                Assert.Equal(Dimension, copy.Dimension);
                Assert.Equal(factory, copy.Description);
                var (d1, l1) = Search(copy, queries, k: 3);
                Assert.Equal(l0, l1);
                Assert.Equal(d0, d1);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("flat")]
    [InlineData("FLAT")]
    [InlineData(" Flat ")]
    public void FlatSpellingsMeanTheExactIndex(string factory)
    {
        using var index = FaissIndex.Create(Dimension, factory);
        Assert.Equal("Flat", index.Description);
        Assert.True(index.IsTrained);
    }

    [Theory]
    [InlineData("IVF16,Flat", "nprobe", 4)]
    [InlineData("HNSW32", "efSearch", 64)]
    public void ApproximateIndexesFindTheExactNeighbourOnClusteredData(string factory, string parameter, double value)
    {
        var bank = VectorData.Clustered(2000, Dimension, 24, seed: 3);
        var queries = VectorData.Clustered(200, Dimension, 24, seed: 4);
        using var index = FaissIndex.Create(Dimension, factory);
        index.Add(bank);
        index.SetSearchParameter(parameter, value);
        Assert.True(index.IsTrained);
        Assert.Equal(2000, index.Count);

        var (distances, labels) = Search(index, queries, k: 1);
        var (exactDistances, exact) = VectorData.BruteForce(bank, queries, Dimension, k: 1);
        double recall = labels.Zip(exact).Count(p => p.First == p.Second) / (double)exact.Length;
        // Points of one cluster are nearly equidistant from a query (32-D noise), so an approximate index may miss the
        // exact one; a miss must still be in the query's own cluster (other clusters are about 400 times farther).
        double worstRatio = distances.Select((d, i) => d / exactDistances[i]).Max();
        Assert.True(recall >= 0.8 && worstRatio <= 2, $"{factory} with {parameter}={value}: recall@1 {recall:F3}, worst distance ratio {worstRatio:F3}");
    }

    [Fact]
    public void IvfProbingEveryListIsExact()
    {
        var bank = VectorData.Clustered(1000, Dimension, 16, seed: 3);
        var queries = VectorData.Gaussian(100, Dimension, seed: 4, scale: 10f);
        using var index = FaissIndex.Create(Dimension, "IVF16,Flat");
        index.Add(bank);
        index.SetSearchParameter("nprobe", 16);
        var (distances, labels) = Search(index, queries, k: 1);
        var (exactDistances, exact) = VectorData.BruteForce(bank, queries, Dimension, k: 1);
        Assert.Equal(exact, labels);
        for (int i = 0; i < exact.Length; i++)
            Assert.Equal(exactDistances[i], distances[i], 1e-3 * exactDistances[i]);
    }

    [Fact]
    public void IvfWithOneProbeStillAnswersEveryQuery()
    {
        var bank = VectorData.Clustered(1000, Dimension, 16, seed: 5);
        using var index = FaissIndex.Create(Dimension, "IVF16,Flat");
        index.Add(bank);
        index.SetSearchParameter("nprobe", 1);
        var (_, labels) = Search(index, bank.AsSpan(0, 20 * Dimension).ToArray(), k: 1);
        // Each bank vector queried against itself lies in its own list: it must find itself.
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), labels);
    }

    [Fact]
    public void BadFactoryStringGivesFaissExceptionWithFaissText()
    {
        var error = Assert.Throws<FaissException>(() => FaissIndex.Create(Dimension, "NoSuchIndex99"));
        Assert.False(string.IsNullOrWhiteSpace(error.NativeMessage));
        Assert.Contains(error.NativeMessage, error.Message);
        Assert.Contains("NoSuchIndex99", error.Message);
        Assert.IsAssignableFrom<PatchCoreException>(error);
    }

    [Fact]
    public void ParameterThatDoesNotApplyGivesFaissException()
    {
        using var index = FaissIndex.Create(Dimension);
        var error = Assert.Throws<FaissException>(() => index.SetSearchParameter("nprobe", 4));
        Assert.Contains("nprobe", error.NativeMessage);
    }

    [Fact]
    public void TooFewVectorsToTrainIvfGivesFaissException()
    {
        using var index = FaissIndex.Create(Dimension, "IVF16,Flat");
        Assert.False(index.IsTrained);
        Assert.Throws<FaissException>(() => index.Add(VectorData.Gaussian(4, Dimension, seed: 6)));
    }

    [Fact]
    public void UnreadableInputsGiveFaissExceptionNamingTheFile()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}.index");
        var error = Assert.Throws<FaissException>(() => FaissIndex.Load(missing));
        Assert.Contains(missing, error.Message);

        Assert.Throws<FaissException>(() => FaissIndex.FromBytes(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }));
        Assert.Throws<FaissException>(() => FaissIndex.FromBytes(ReadOnlySpan<byte>.Empty));

        using var index = FaissIndex.Create(Dimension);
        string badPath = Path.Combine(missing, "sub", "x.index");
        var writeError = Assert.Throws<FaissException>(() => index.Save(badPath));
        Assert.Contains(badPath, writeError.Message);
    }

    [Fact]
    public void TruncatedBytesGiveFaissException()
    {
        using var index = FaissIndex.Create(Dimension);
        index.Add(VectorData.Gaussian(10, Dimension, seed: 7));
        byte[] bytes = index.ToBytes();
        Assert.Throws<FaissException>(() => FaissIndex.FromBytes(bytes.AsSpan(0, bytes.Length / 2)));
    }

    [Fact]
    public void WrongSpanLengthsThrowArgumentException()
    {
        using var index = FaissIndex.Create(Dimension);
        Assert.Throws<ArgumentException>(() => index.Add(new float[Dimension + 1]));
        index.Add(new float[2 * Dimension]);
        Assert.Throws<ArgumentException>(() => index.Train(new float[Dimension - 1]));
        Assert.Throws<ArgumentException>(() => index.Search(new float[Dimension + 3], 1, new float[1], new long[1]));
        Assert.Throws<ArgumentException>(() => index.Search(new float[Dimension], 2, new float[1], new long[2]));
        Assert.Throws<ArgumentException>(() => index.Search(new float[Dimension], 2, new float[2], new long[3]));
        Assert.ThrowsAny<ArgumentException>(() => index.Search(new float[Dimension], 0, new float[0], new long[0]));
        Assert.ThrowsAny<ArgumentException>(() => FaissIndex.Create(0));
        Assert.Equal(2, index.Count);
    }

    [Fact]
    public void MoreNeighboursThanVectorsGiveLabelMinusOne()
    {
        using var index = FaissIndex.Create(Dimension);
        index.Add(VectorData.Gaussian(2, Dimension, seed: 8));
        var (distances, labels) = Search(index, VectorData.Gaussian(1, Dimension, seed: 9), k: 4);
        Assert.All(labels.Take(2), l => Assert.InRange(l, 0, 1));
        Assert.All(labels.Skip(2), l => Assert.Equal(-1, l));
        Assert.All(distances.Skip(2), d => Assert.True(d > 1e30f));
    }

    [Fact]
    public void DisposeTwiceIsSafeAndUseAfterDisposeThrows()
    {
        var index = FaissIndex.Create(Dimension);
        index.Dispose();
        index.Dispose();
        Assert.Throws<ObjectDisposedException>(() => index.Count);
        Assert.Throws<ObjectDisposedException>(() => index.Add(new float[Dimension]));
    }

    [Fact]
    public void ThreadCountIsApplied()
    {
        int before = FaissIndex.ThreadCount;
        try
        {
            FaissIndex.SetThreadCount(1);
            Assert.Equal(1, FaissIndex.ThreadCount);
            Assert.ThrowsAny<ArgumentException>(() => FaissIndex.SetThreadCount(0));
        }
        finally
        {
            FaissIndex.SetThreadCount(before);
        }
    }

    internal static (float[] Distances, long[] Labels) Search(INearestNeighbourIndex index, float[] queries, int k)
    {
        int nq = queries.Length / index.Dimension;
        var distances = new float[nq * k];
        var labels = new long[nq * k];
        index.Search(queries, k, distances, labels);
        return (distances, labels);
    }
}
