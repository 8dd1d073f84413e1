using PatchCore.Core.MemoryBank;
using Xunit;
using static TorchSharp.torch;
using PatchCore.Core.Search;

namespace PatchCore.Core.Tests.Search;

/// <summary>Flat FAISS, TorchExactIndex and a double-precision brute force must give the same neighbours.</summary>
public class ExactSearchAgreementTests
{
    private const int Dimension = 48;

    public static TheoryData<int, long?> Cases => new()
    {
        { 1, null },
        { 3, null },
        // 48 KiB: 4096 distance values per block -> 256 query rows x 16 bank rows: 2 x 44 chunks.
        { 1, 48L << 10 },
        { 3, 48L << 10 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FlatFaissTorchAndReferenceAgree(int k, long? budget)
    {
        var bank = VectorData.Gaussian(700, Dimension, seed: 11);
        var queries = VectorData.Gaussian(300, Dimension, seed: 12);
        var (refD, refL) = VectorData.BruteForce(bank, queries, Dimension, k);

        using var faiss = FaissIndex.Create(Dimension);
        using var torchIndex = new TorchExactIndex(Dimension, CPU, budget);
        faiss.Add(bank);
        torchIndex.Add(bank.AsSpan(0, 300 * Dimension));   // two adds: labels continue from the first
        torchIndex.Add(bank.AsSpan(300 * Dimension));
        Assert.Equal(700, torchIndex.Count);
        if (budget is not null)
        {
            var (queryRows, bankRows) = torchIndex.ChunkShape(300);
            Assert.True(queryRows < 300 && bankRows < 700, $"chunks {queryRows} x {bankRows} do not split the work");
        }

        foreach (INearestNeighbourIndex index in new INearestNeighbourIndex[] { faiss, torchIndex })
        {
            var (d, l) = FaissIndexTests.Search(index, queries, k);
            for (int i = 0; i < refD.Length; i++)
            {
                Assert.True(Math.Abs(d[i] - refD[i]) <= 1e-3 * refD[i], $"{index.GetType().Name} [{i}]: {d[i]} vs {refD[i]}");
                if (!TiedWithNeighbour(refD, i, k))
                    Assert.Equal(refL[i], l[i]);
            }
        }
    }

    [Fact]
    public void TensorSearchMatchesSpanSearchAndPadsMissingNeighbours()
    {
        var bank = VectorData.Gaussian(5, Dimension, seed: 13);
        var queries = VectorData.Gaussian(7, Dimension, seed: 14);
        using var torchIndex = new TorchExactIndex(Dimension, CPU);
        using var faiss = FaissIndex.Create(Dimension);
        torchIndex.Add(bank);
        faiss.Add(bank);

        using var scope = NewDisposeScope();
        Tensor queryTensor = tensor(queries, [7, Dimension]);
        var (d, l) = torchIndex.Search(queryTensor, k: 8);
        Assert.Equal(new long[] { 7, 8 }, d.shape);
        Assert.Equal(queries, queryTensor.data<float>().ToArray());   // the caller's tensor stays alive and unchanged
        var (spanD, spanL) = FaissIndexTests.Search(torchIndex, queries, k: 8);
        Assert.Equal(spanL, l.data<long>().ToArray());
        Assert.Equal(spanD, d.data<float>().ToArray());

        var (faissD, faissL) = FaissIndexTests.Search(faiss, queries, k: 8);
        Assert.Equal(faissL, spanL);                   // -1 beyond the 5 bank vectors, as FAISS
        for (int i = 0; i < faissD.Length; i++)
            Assert.Equal(faissD[i], spanD[i], faissD[i] * 1e-4f);
    }

    [Fact]
    public void EmptyBankGivesOnlyMissingNeighbours()
    {
        using var torchIndex = new TorchExactIndex(Dimension, CPU);
        var (d, l) = FaissIndexTests.Search(torchIndex, VectorData.Gaussian(2, Dimension, seed: 15), k: 2);
        Assert.All(l, label => Assert.Equal(-1, label));
        Assert.All(d, distance => Assert.Equal(float.MaxValue, distance));
    }

    [Fact]
    public void HostCopyInSeveralPiecesKeepsEveryValue()
    {
        var values = VectorData.Gaussian(37, Dimension, seed: 16);
        using var scope = NewDisposeScope();
        // 1000 bytes per piece: 5 rows of 48 floats each, so 8 pieces.
        Tensor copy = TorchExactIndex.FromHost(values, 37, Dimension, pieceBytes: 1000);
        Assert.Equal(new long[] { 37, Dimension }, copy.shape);
        Assert.Equal(values, copy.data<float>().ToArray());
    }

    [Fact]
    public void TorchIndexRejectsBadInputAndSurvivesDoubleDispose()
    {
        var index = new TorchExactIndex(Dimension, CPU);
        Assert.Throws<ArgumentException>(() => index.Add(new float[Dimension + 1]));
        Assert.Throws<ArgumentException>(() => index.Search(new float[Dimension * 2 + 1], 1, new float[2], new long[2]));
        Assert.Throws<ArgumentException>(() => index.Search(new float[Dimension], 1, new float[2], new long[1]));
        Assert.Throws<ArgumentException>(() => index.Search(new float[Dimension], 1, new float[1], new long[2]));
        Assert.ThrowsAny<ArgumentException>(() => index.Search(new float[Dimension], 0, new float[0], new long[0]));
        using (var scope = NewDisposeScope())
            Assert.Throws<ArgumentException>(() => index.Add(zeros(3, Dimension + 1)));
        Assert.ThrowsAny<ArgumentException>(() => new TorchExactIndex(Dimension, CPU, workBudgetBytes: 0));
        index.Dispose();
        index.Dispose();
        Assert.Throws<ObjectDisposedException>(() => index.Add(new float[Dimension]));
    }

    // A label may legitimately differ where the next or previous neighbour is at (nearly) the same distance.
    private static bool TiedWithNeighbour(double[] distances, int i, int k)
    {
        int column = i % k;
        bool tiedBefore = column > 0 && Math.Abs(distances[i] - distances[i - 1]) <= 1e-4 * distances[i];
        bool tiedAfter = column < k - 1 && Math.Abs(distances[i + 1] - distances[i]) <= 1e-4 * distances[i];
        return tiedBefore || tiedAfter;
    }
}
