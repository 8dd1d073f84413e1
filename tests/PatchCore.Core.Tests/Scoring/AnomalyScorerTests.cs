using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;
using Xunit;
using PatchCore.Core.Search;

namespace PatchCore.Core.Tests.Scoring;

public class AnomalyScorerTests
{
    // Bank of four 2-D points; queries at known places.
    private static readonly float[] Bank = [0, 0, 10, 0, 0, 10, 10, 10];

    private static AnomalyScorer Scorer(ScoringOptions options, FaissIndex index, int chunk = 2)
    {
        index.Add(Bank);
        return new AnomalyScorer(index, Bank, options, chunk);
    }

    [Fact]
    public void PatchScoreIsTheEuclideanDistanceToTheNearestBankVector()
    {
        using var index = FaissIndex.Create(2);
        var scorer = Scorer(new ScoringOptions(), index);
        float[] scores = scorer.PatchScores([3, 4, 10, 10, 6, 2]); // three queries, chunked 2 + 1
        Assert.Equal(5f, scores[0], 4);   // sqrt(9 + 16) to (0,0)
        Assert.Equal(0f, scores[1], 4);
        Assert.Equal(MathF.Sqrt(16 + 4), scores[2], 4); // (6,2) -> (10,0)
    }

    [Fact]
    public void WithKNeighboursThePatchScoreIsTheMeanDistance()
    {
        using var index = FaissIndex.Create(2);
        var scorer = Scorer(new ScoringOptions { NeighbourCount = 2 }, index);
        float[] scores = scorer.PatchScores([5, 0]);
        Assert.Equal(5f, scores[0], 4); // (0,0) and (10,0) both at 5
    }

    [Fact]
    public void ImageScoreIsTheMaxPatchAndTheMapPeaksWhereThePatchIs()
    {
        using var index = FaissIndex.Create(2);
        var scorer = Scorer(new ScoringOptions(), index);
        // one image, 2x2 grid: patch (1,0) is far from the bank
        float[] embeddings = [0, 0, 30, 30, 10, 0, 0, 10];
        var d = scorer.FromPatchScores(["img"], scorer.PatchScores(embeddings), embeddings, gridWidth: 2, gridHeight: 2, inputWidth: 16, inputHeight: 16)[0];
        Assert.Equal(Math.Sqrt(20 * 20 + 20 * 20), d.Score, 3);
        Assert.Equal(16 * 16, d.Map.Values.Length);
        int peak = Array.IndexOf(d.Map.Values, d.Map.Values.Max());
        Assert.True(peak % 16 >= 8 && peak / 16 < 8, $"peak at ({peak % 16},{peak / 16}) should be in the top-right quarter");
    }

    [Fact]
    public void Eq7ReweightingShrinksScoresOfPatchesWhoseNeighbourhoodIsDense()
    {
        // b = 2: the nearest bank vector m* = (0,0), its 2 nearest bank vectors are (0,0) and one at distance 10.
        using var index = FaissIndex.Create(2);
        var scorer = Scorer(new ScoringOptions { Reweight = true, ReweightNeighbours = 2 }, index);
        float[] query = [3, 4];
        double w = scorer.ReweightFactor(query);
        // d* = 5; neighbours of m*: (0,0) at 5 and (10,0) or (0,10) at sqrt(49+16)=8.062 or sqrt(9+36)=6.708
        double dOther = Math.Sqrt(3 * 3 + 6 * 6); // FAISS returns the lower label on ties: (10,0) vs (0,10) are tied at 10 from m*
        double dOther2 = Math.Sqrt(7 * 7 + 4 * 4);
        double expectedA = 1 - Math.Exp(5) / (Math.Exp(5) + Math.Exp(dOther));
        double expectedB = 1 - Math.Exp(5) / (Math.Exp(5) + Math.Exp(dOther2));
        Assert.True(Math.Abs(w - expectedA) < 1e-6 || Math.Abs(w - expectedB) < 1e-6, $"weight {w}, expected {expectedA} or {expectedB}");
        Assert.InRange(w, 0, 1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void RefiningImageMaximaAfterAnApproximateSearchGivesTheExactImageScores(int k)
    {
        // 40 "images" of 49 patches each against a clustered bank; a coarse projected IVF (2 of 32 lists, shortlist 4)
        // misses many nearest neighbours, so raw image maxima are too high.
        const int dim = 32, perImage = 49, images = 40;
        var bank = Tests.Search.VectorData.Clustered(2000, dim, clusters: 40, seed: 31);
        var queries = Tests.Search.VectorData.Clustered(perImage * images, dim, clusters: 40, seed: 31, noiseSeed: 32);
        for (int i = 0; i < 20; i++) queries[i * 97 % queries.Length] += 6f;     // a few off-manifold patches
        using var exact = ProjectedFlatIndex.Over(bank, dim, new ProjectedSearchOptions { ProjectionDim = 8, RefinedDim = 16 });
        using var ivf = ProjectedIvfIndex.Over(bank, dim, new ProjectedIvfOptions { ProjectionDim = 4, Lists = 32, Probes = 2, Candidates = 4 });
        var options = new ScoringOptions { NeighbourCount = k };
        var exactScorer = new AnomalyScorer(exact, bank, options, 4096);
        var plain = new AnomalyScorer(ivf, bank, options, 4096);
        var refining = new AnomalyScorer(ivf, bank, options, 4096, exactForMaxima: exact);

        float[] truth = exactScorer.PatchScores(queries);
        float[] raw = plain.PatchScores(queries);
        Assert.Equal(0, plain.RefineImageMaxima(raw, queries, perImage));      // no exact index: nothing to do
        float[] refined = refining.PatchScores(queries);
        int searched = refining.RefineImageMaxima(refined, queries, perImage);

        int rawWrong = 0;
        for (int b = 0; b < images; b++)
        {
            var span = new Range(b * perImage, (b + 1) * perImage);
            float exactMax = truth[span].Max(), rawMax = raw[span].Max();
            Assert.True(rawMax >= exactMax * (1 - 1e-5f), $"image {b}: approximate max {rawMax} below exact {exactMax}");
            if (rawMax > exactMax * (1 + 1e-4f)) rawWrong++;
            Assert.Equal(exactMax, refined[span].Max(), exactMax * 1e-5f);
        }
        for (int i = 0; i < refined.Length; i++)
            Assert.True(refined[i] >= truth[i] * (1 - 1e-5f), $"patch {i}: {refined[i]} below exact {truth[i]}");
        Assert.True(rawWrong > 0, "the approximate search found every maximum: the test proves nothing");
        Assert.InRange(searched, images, perImage * images / 2);                // some patches, far from all
    }
}
