namespace PatchCore.Core.Evaluation;

/// <summary>Image-level input: validates (score, label) pairs and packs them into one sorted run for <see cref="ScoreSweep"/>.</summary>
internal static class LabelledScores
{
    public static ArraySegment<ulong>[] Sorted(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isAnomalous, out long positives, out long negatives)
    {
        if (scores.Length != isAnomalous.Length)
            throw new ArgumentException($"{scores.Length} scores but {isAnomalous.Length} labels; each score needs one label.", nameof(isAnomalous));
        var packed = new ulong[scores.Length];
        positives = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (float.IsNaN(scores[i]))
                throw new PatchCoreException($"Score {i} of {scores.Length} is NaN; metrics need every score to be a number.");
            packed[i] = ScoreKey.Pack(scores[i], isAnomalous[i] ? 1u : 0u);
            if (isAnomalous[i])
                positives++;
        }
        negatives = scores.Length - positives;
        Array.Sort(packed);
        return [new ArraySegment<ulong>(packed)];
    }
}
