using System.Runtime.Intrinsics;
using PatchCore.Core.MemoryBank;
using Xunit;
using PatchCore.Core.Search;

namespace PatchCore.Core.Tests.Search;

/// <summary>
/// The projected search against a double-precision brute force: in exact mode it must return the same neighbours
/// (the lower bounds only decide what is skipped), in approximate mode never a nearer distance than the truth.
/// </summary>
public class ProjectedFlatIndexTests
{
    public enum Data { Gaussian, Clustered, LowRank }

    private static (float[] Bank, float[] Queries, int Dimension) Make(Data data, int bankRows, int queryRows)
    {
        return data switch
        {
            // Isotropic: the bounds are loose and most rows survive; exactness must not depend on tight bounds.
            Data.Gaussian => (VectorData.Gaussian(bankRows, 48, seed: 21), VectorData.Gaussian(queryRows, 48, seed: 22), 48),
            Data.Clustered => (VectorData.Clustered(bankRows, 64, clusters: 12, seed: 23), VectorData.Clustered(queryRows, 64, clusters: 12, seed: 23, noiseSeed: 24), 64),
            // Most variance in a few directions, as real patch embeddings have.
            _ => (LowRank(bankRows, 96, seed: 25), LowRank(queryRows, 96, seed: 26), 96),
        };
    }

    // (data, k, coarse components, refined components (at most coarse = none), k-means lists (null = default))
    public static TheoryData<Data, int, int, int, int?> ExactCases => new()
    {
        { Data.Gaussian, 1, 8, 0, null },
        { Data.Gaussian, 3, 8, 24, null },
        { Data.Clustered, 1, 16, 0, null },
        { Data.Clustered, 5, 16, 32, null },
        { Data.LowRank, 1, 3, 12, null },
        { Data.LowRank, 9, 12, 256, null },          // refined clamped to all 96 dimensions: the bound is the distance
        // One list: every query's seed list is the whole bank, in one run of panels
        { Data.LowRank, 3, 3, 12, 1 },
        // Lists of about 5 rows: most panels are mostly padding, and a group's queries want different lists
        { Data.Clustered, 1, 16, 0, 300 },
        { Data.LowRank, 2, 5, 24, 300 },
    };

    [Theory]
    [MemberData(nameof(ExactCases))]
    public void ExactModeReturnsTheBruteForceNeighbours(Data data, int k, int projection, int refined, int? lists)
    {
        // 1100 queries: a chunk of 1024 and one of 76, the last group of the chunks 4 and 12 rows
        var (bank, queries, dim) = Make(data, bankRows: 1500, queryRows: 1100);
        var (refD, refL) = VectorData.BruteForce(bank, queries, dim, k);

        using var index = ProjectedFlatIndex.Over(bank, dim, new ProjectedSearchOptions { ProjectionDim = projection, RefinedDim = refined, Lists = lists });
        var (d, l) = FaissIndexTests.Search(index, queries, k);
        Assert.Equal(lists ?? 1500 / ProjectedSearchOptions.DefaultRowsPerList, index.ListCount);

        for (int i = 0; i < refD.Length; i++)
        {
            Assert.True(Math.Abs(d[i] - refD[i]) <= 1e-5 * refD[i] + 1e-5, $"{data} [{i}]: {d[i]} vs {refD[i]}");
            if (!Tied(refD, i, k)) Assert.True(refL[i] == l[i], $"{data} [{i}]: label {l[i]} at {d[i]}, reference {refL[i]} at {refD[i]} (row {string.Join(", ", refD.Skip(i / k * k).Take(k))})");
        }
        Assert.InRange(index.ExactDistancesPerQuery, k, 1500);
        if (refined > projection) Assert.True(index.RefinedBoundsPerQuery >= index.ExactDistancesPerQuery - k, "rows reached an exact distance without a refined bound");
        else Assert.Equal(0, index.RefinedBoundsPerQuery);
        if (data != Data.Gaussian)
            Assert.True(index.ExactDistancesPerQuery < 0.25 * 1500, $"{data}: {index.ExactDistancesPerQuery:F1} exact distances per query: the bounds pruned too little");
    }

    [Fact]
    public void LowerBoundsNeverExceedTheExactDistanceBeyondTheSlack()
    {
        var (bank, queries, dim) = Make(Data.LowRank, bankRows: 400, queryRows: 50);
        var projected = ProjectedBank.Fit(bank, 400, dim, coarseDim: 3, refinedDim: 12, sampleRows: 400);
        Assert.Equal((3, 12), (projected.CoarseDim, projected.RefinedDim));
        ProjectedRows q = projected.Project(queries, 50);
        var g = new float[400];
        double tightestCoarse = 0, tightestRefined = 0;
        for (int i = 0; i < 50; i++)
        {
            // The coarse bound as the projected IVF computes it: ||p_q - p_y||^2 + (r_q - r_y)^2
            for (int j = 0; j < 400; j++)
                g[j] = ProjectedBank.Bound(q.Coarse.AsSpan(i * 3, 3), q.CoarseResiduals[i], projected.Bank.Coarse.AsSpan(j * 3, 3), projected.Bank.CoarseResiduals[j]);
            float slack = projected.Slack(q, i);
            for (int j = 0; j < 400; j++)
            {
                double exact = 0;
                for (int c = 0; c < dim; c++) { double diff = (double)queries[i * dim + c] - bank[j * dim + c]; exact += diff * diff; }
                float refined = projected.RefinedBound(q, i, j);
                Assert.True(g[j] <= exact + slack, $"query {i}, row {j}: coarse bound {g[j]} > exact {exact} + slack {slack}");
                Assert.True(refined <= exact + slack, $"query {i}, row {j}: refined bound {refined} > exact {exact} + slack {slack}");
                Assert.True(refined >= g[j] - slack, $"query {i}, row {j}: refined bound {refined} looser than coarse {g[j]}");
                tightestCoarse = Math.Max(tightestCoarse, g[j] / exact);
                tightestRefined = Math.Max(tightestRefined, refined / exact);
            }
        }
        Assert.True(projected.ExplainedVariance > 0.6, $"explained variance {projected.ExplainedVariance:P1}");
        Assert.True(tightestCoarse > 0.8 && tightestRefined > 0.9, $"the bounds are never tight (best ratios {tightestCoarse:F3}, {tightestRefined:F3})");
    }

    [Fact]
    public void ListAndPanelBoundsNeverExceedTheExactDistanceBeyondTheSlack()
    {
        var (bank, queries, dim) = Make(Data.LowRank, bankRows: 500, queryRows: 40);
        var projection = ProjectedBank.Fit(bank, 500, dim, coarseDim: 6, refinedDim: 20, sampleRows: 500);
        var listed = ListedBank.Build(projection, lists: 23, seed: 5);
        Assert.Equal(23, listed.ListCount);
        Assert.Equal(500, listed.Rows.Sum());
        // Every row sits in exactly one slot; a list's padding (its last panel only) holds -1.
        Assert.Equal(Enumerable.Range(0, 500), listed.Members.Where(m => m >= 0).Order());
        for (int c = 0; c < 23; c++)
            for (int p = listed.PanelStarts[c]; p < listed.PanelStarts[c + 1]; p++)
                for (int lane = 0; lane < ListedBank.PanelRows; lane++)
                    Assert.Equal((listed.ValidLanes(c, p) >> lane & 1) == 1, listed.Members[p * ListedBank.PanelRows + lane] >= 0);

        ProjectedRows q = projection.Project(queries, 40);
        int d1 = projection.CoarseDim, positive = 0;
        var lanes = new float[ListedBank.PanelRows];
        for (int i = 0; i < 40; i++)
        {
            float slack = projection.Slack(q, i);
            for (int c = 0; c < 23; c++)
            {
                float cross = 0;
                for (int j = 0; j < d1; j++) cross += -2f * q.Coarse[i * d1 + j] * listed.Centroids[c * d1 + j];
                float ball = listed.BallBound(c, cross, q.CoarseNorms[i], q.CoarseResiduals[i]);
                if (ball > 0) positive++;
                for (int p = listed.PanelStarts[c]; p < listed.PanelStarts[c + 1]; p++)
                {
                    listed.PanelBounds(q.Coarse.AsSpan(i * d1, d1), q.CoarseNorms[i], q.CoarseResiduals[i], p).CopyTo(lanes);
                    for (int lane = 0; lane < ListedBank.PanelRows; lane++)
                    {
                        int slot = p * ListedBank.PanelRows + lane, row = listed.Members[slot];
                        if (row < 0) continue;
                        double exact = 0;
                        for (int j = 0; j < dim; j++) { double diff = (double)queries[i * dim + j] - bank[row * dim + j]; exact += diff * diff; }
                        float refined = listed.RefinedBound(q, i, slot);
                        Assert.True(ball <= exact + slack, $"query {i}, list {c}, row {row}: ball bound {ball} > exact {exact} + slack {slack}");
                        Assert.True(lanes[lane] <= exact + slack, $"query {i}, row {row}: panel bound {lanes[lane]} > exact {exact} + slack {slack}");
                        Assert.True(refined <= exact + slack, $"query {i}, row {row}: refined bound {refined} > exact {exact} + slack {slack}");
                        Assert.True(lanes[lane] >= ball - slack, $"query {i}, row {row}: panel bound {lanes[lane]} looser than the ball's {ball}");
                    }
                }
            }
        }
        Assert.True(positive > 40 * 23 / 2, $"only {positive} of {40 * 23} ball bounds are above zero: the lists could never be skipped");
    }

    [Fact]
    public void ApproximateIndexNeverReportsANearerNeighbourAndFindsMostOfThem()
    {
        // Low-rank data, as real embeddings: the projection keeps most of each distance, so its ranking is informative.
        var (bank, queries, dim) = Make(Data.LowRank, bankRows: 1500, queryRows: 400);
        var (refD, refL) = VectorData.BruteForce(bank, queries, dim, 1);
        using var index = ProjectedIvfIndex.Over(bank, dim, new ProjectedIvfOptions { ProjectionDim = 12, Lists = 24, Probes = 3, Candidates = 8 });
        var (d, l) = FaissIndexTests.Search(index, queries, 1);
        Assert.Equal(24, index.ListCount);
        int same = 0;
        for (int i = 0; i < d.Length; i++)
        {
            double exact = 0;
            for (int c = 0; c < dim; c++) { double diff = (double)queries[i * dim + c] - bank[l[i] * dim + c]; exact += diff * diff; }
            Assert.True(Math.Abs(d[i] - exact) <= 1e-5 * exact + 1e-5, $"[{i}]: reported {d[i]} is not the distance {exact} to row {l[i]}");
            Assert.True(d[i] >= refD[i] * (1 - 1e-5) - 1e-5, $"[{i}]: {d[i]} nearer than the truth {refD[i]}");
            if (l[i] == refL[i]) same++;
        }
        // 3 of 24 lists: about an eighth of the bank is scanned (lists are uneven), and most nearest rows are found.
        Assert.InRange(index.ScannedPerQuery, 1, 0.4 * 1500);
        Assert.True(same >= 0.7 * d.Length, $"recall@1 {same}/{d.Length}");

        // Probing every list with an unlimited shortlist is exhaustive: the exact answer.
        using var all = ProjectedIvfIndex.Over(bank, dim, new ProjectedIvfOptions { ProjectionDim = 12, Lists = 24, Probes = 24, Candidates = 1500 });
        var (ad, al) = FaissIndexTests.Search(all, queries, 3);
        var (r3, l3) = VectorData.BruteForce(bank, queries, dim, 3);
        for (int i = 0; i < ad.Length; i++) Assert.Equal(r3[i], ad[i], r3[i] * 1e-5 + 1e-5);
        Assert.Equal(1500, all.ScannedPerQuery);
        Assert.True(all.ExactDistancesPerQuery < 0.25 * 1500, $"{all.ExactDistancesPerQuery:F1} exact distances per query: the re-ranking pruned too little");

        // Without the refined bound the re-ranking computes more exact distances but returns the same neighbours.
        using var coarseOnly = ProjectedIvfIndex.Over(bank, dim, new ProjectedIvfOptions { ProjectionDim = 12, Lists = 24, Probes = 3, Candidates = 8, RefinedDim = 0 });
        var (cd, cl) = FaissIndexTests.Search(coarseOnly, queries, 1);
        Assert.Equal(d, cd);
        Assert.Equal(l, cl);
        Assert.True(coarseOnly.ExactDistancesPerQuery >= index.ExactDistancesPerQuery);
    }

    [Fact]
    public void EachSearchAnswersAsAFreshIndexWouldThoughTheIndexReusesItsQueryBuffers()
    {
        // A large search (two chunks), a small one, then a mid-sized one of other queries: the buffers the index keeps
        // from the larger searches must not leak stale rows (or their norms) into the smaller ones.
        var (bank, queries, dim) = Make(Data.LowRank, bankRows: 900, queryRows: 1100);
        float[] far = queries.Select(v => v * 3f).ToArray();   // the first search's rows differ from the later ones everywhere
        int[] sizes = [1100, 7, 300];
        using var flat = ProjectedFlatIndex.Over(bank, dim, new ProjectedSearchOptions { ProjectionDim = 12, RefinedDim = 24 });
        using var ivf = ProjectedIvfIndex.Over(bank, dim, new ProjectedIvfOptions { ProjectionDim = 12, Lists = 16, Probes = 3, Candidates = 8 });
        for (int round = 0; round < sizes.Length; round++)
        {
            float[] q = (round == 0 ? far : queries).AsSpan(0, sizes[round] * dim).ToArray();
            using var freshFlat = ProjectedFlatIndex.Over(bank, dim, new ProjectedSearchOptions { ProjectionDim = 12, RefinedDim = 24 });
            using var freshIvf = ProjectedIvfIndex.Over(bank, dim, new ProjectedIvfOptions { ProjectionDim = 12, Lists = 16, Probes = 3, Candidates = 8 });
            var (fd, fl) = FaissIndexTests.Search(flat, q, 2);
            var (rd, rl) = FaissIndexTests.Search(freshFlat, q, 2);
            Assert.Equal(rd, fd);
            Assert.Equal(rl, fl);
            Assert.Equal(freshFlat.ExactDistancesPerQuery, flat.ExactDistancesPerQuery);
            var (id, il) = FaissIndexTests.Search(ivf, q, 2);
            var (jd, jl) = FaissIndexTests.Search(freshIvf, q, 2);
            Assert.Equal(jd, id);
            Assert.Equal(jl, il);
        }
    }

    [Fact]
    public void VectorsAddedAfterASearchAreFoundAndLabelsContinue()
    {
        var (bank, queries, dim) = Make(Data.Clustered, bankRows: 600, queryRows: 100);
        var (refD, refL) = VectorData.BruteForce(bank, queries, dim, 2);
        using var index = new ProjectedFlatIndex(dim, new ProjectedSearchOptions { ProjectionDim = 16 });
        index.Add(bank.AsSpan(0, 250 * dim));
        FaissIndexTests.Search(index, queries, 2);                   // fits the projection on the first 250 rows
        index.Add(bank.AsSpan(250 * dim));
        Assert.Equal(600, index.Count);
        var (d, l) = FaissIndexTests.Search(index, queries, 2);
        for (int i = 0; i < d.Length; i++)
        {
            Assert.Equal(refD[i], d[i], refD[i] * 1e-5 + 1e-5);
            if (!Tied(refD, i, 2)) Assert.Equal(refL[i], l[i]);
        }
    }

    [Fact]
    public void MissingNeighboursArePaddedAsFaissDoes()
    {
        var bank = VectorData.Gaussian(5, 32, seed: 27);
        var queries = VectorData.Gaussian(3, 32, seed: 28);
        using var index = ProjectedFlatIndex.Over(bank, 32);
        using var faiss = FaissIndex.Create(32);
        faiss.Add(bank);
        var (d, l) = FaissIndexTests.Search(index, queries, 7);
        var (fd, fl) = FaissIndexTests.Search(faiss, queries, 7);
        Assert.Equal(fl, l);
        for (int i = 0; i < d.Length; i++) Assert.Equal(fd[i], d[i], Math.Max(1e-3f, fd[i] * 1e-4f));

        using var empty = new ProjectedFlatIndex(32);
        var (ed, el) = FaissIndexTests.Search(empty, queries, 2);
        Assert.All(el, x => Assert.Equal(-1, x));
        Assert.All(ed, x => Assert.Equal(float.MaxValue, x));
    }

    [Fact]
    public void BadArgumentsAreRefusedAndDisposeIsFinal()
    {
        Assert.Throws<PatchCoreException>(() => new ProjectedFlatIndex(8, new ProjectedSearchOptions { ProjectionDim = 0 }));
        Assert.Throws<PatchCoreException>(() => new ProjectedFlatIndex(8, new ProjectedSearchOptions { Lists = 0 }));
        Assert.Throws<PatchCoreException>(() => new ProjectedIvfIndex(8, new ProjectedIvfOptions { Probes = 0 }));
        Assert.Throws<PatchCoreException>(() => new ProjectedIvfIndex(8, new ProjectedIvfOptions { Lists = 0 }));
        Assert.Throws<PatchCoreException>(() => new ProjectedIvfIndex(8, new ProjectedIvfOptions { Candidates = ProjectedIvfOptions.MaxCandidates + 1 }));
        Assert.ThrowsAny<ArgumentException>(() => ProjectedFlatIndex.Over(new float[17], 8));
        var index = ProjectedFlatIndex.Over(VectorData.Gaussian(20, 8, seed: 29), 8);
        Assert.Throws<ArgumentException>(() => index.Search(new float[8], 1, new float[2], new long[2]));
        index.Dispose();
        index.Dispose();
        Assert.Throws<ObjectDisposedException>(() => index.Search(new float[8], 1, new float[1], new long[1]));
    }

    /// <summary>rows x dim: 4 strong directions (scale 10) plus weak isotropic noise (scale 0.3).</summary>
    private static float[] LowRank(int rows, int dim, int seed)
    {
        var basis = VectorData.Gaussian(4, dim, seed: 1000);
        var coefficients = VectorData.Gaussian(rows, 4, seed: seed, scale: 10f);
        var noise = VectorData.Gaussian(rows, dim, seed: seed + 500, scale: 0.3f);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < dim; c++)
            {
                float v = 0;
                for (int b = 0; b < 4; b++) v += coefficients[r * 4 + b] * basis[b * dim + c] / MathF.Sqrt(dim);
                noise[r * dim + c] += v;
            }
        return noise;
    }

    private static bool Tied(double[] distances, int i, int k)
    {
        int column = i % k;
        bool before = column > 0 && Math.Abs(distances[i] - distances[i - 1]) <= 1e-5 * distances[i];
        bool after = column < k - 1 && Math.Abs(distances[i + 1] - distances[i]) <= 1e-5 * distances[i];
        return before || after;
    }
}
