namespace PatchCore.Core.Evaluation;

/// <summary>
/// All samples that share one score, as met in a sweep from the highest score down. Every metric here is a fold
/// over these groups, so ties are always processed together (one curve point per distinct score).
/// </summary>
/// <param name="Score">The shared score.</param>
/// <param name="Negatives">Normal samples (label 0, or pixels outside every ground-truth region).</param>
/// <param name="Positives">Anomalous samples (label 1, or pixels inside a ground-truth region).</param>
/// <param name="RegionCoverage">Sum over the group's region pixels of 1 / (size of the pixel's region); 0 at image level.</param>
internal readonly record struct ScoreGroup(float Score, long Negatives, long Positives, double RegionCoverage);

/// <summary>A consumer of score groups, fed in descending score order.</summary>
internal interface IScoreGroupSink
{
    void Add(in ScoreGroup group);
}
