using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;
using Xunit;

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
        var d = scorer.Score(["img"], embeddings, gridWidth: 2, gridHeight: 2, inputWidth: 16, inputHeight: 16)[0];
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
}
