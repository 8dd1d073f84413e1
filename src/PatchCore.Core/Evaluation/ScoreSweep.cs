namespace PatchCore.Core.Evaluation;

/// <summary>
/// Walks packed (score, payload) entries from the highest score down and hands each run of equal scores to the
/// sinks as one <see cref="ScoreGroup"/>. The entries sit in one or more runs, each sorted ascending; several runs
/// are k-way merged in place, so no second copy of the data is ever made.
/// Payload 0 is a negative; any other payload is a positive, and, when <c>inverseRegionSizes</c> is given, the
/// index of its ground-truth region there.
/// </summary>
internal static class ScoreSweep
{
    public static void Run(IReadOnlyList<ArraySegment<ulong>> sortedRuns, double[]? inverseRegionSizes, params IScoreGroupSink[] sinks)
    {
        int k = sortedRuns.Count;
        var next = new int[k]; // index of each run's next (largest unread) entry, -1 when spent
        for (int r = 0; r < k; r++)
            next[r] = sortedRuns[r].Count - 1;

        bool open = false;
        uint groupKey = 0;
        long negatives = 0, positives = 0;
        double coverage = 0;

        while (true)
        {
            // The run with the largest head, and the largest head among the others (its bound).
            int best = -1;
            ulong bestHead = 0, otherHead = 0;
            bool hasOther = false;
            for (int r = 0; r < k; r++)
            {
                if (next[r] < 0)
                    continue;
                ulong head = sortedRuns[r][next[r]];
                if (best < 0 || head > bestHead)
                {
                    if (best >= 0) { otherHead = hasOther ? Math.Max(otherHead, bestHead) : bestHead; hasOther = true; }
                    best = r;
                    bestHead = head;
                }
                else
                {
                    otherHead = hasOther ? Math.Max(otherHead, head) : head;
                    hasOther = true;
                }
            }
            if (best < 0)
                break;

            // Take from the best run while it stays at or above every other head.
            ArraySegment<ulong> run = sortedRuns[best];
            ulong[] data = run.Array!;
            int offset = run.Offset;
            int i = next[best];
            for (; i >= 0; i--)
            {
                ulong entry = data[offset + i];
                if (hasOther && entry < otherHead)
                    break;
                uint key = ScoreKey.ScoreBits(entry);
                if (!open || key != groupKey)
                {
                    if (open)
                        Emit(sinks, groupKey, negatives, positives, coverage);
                    open = true;
                    groupKey = key;
                    negatives = positives = 0;
                    coverage = 0;
                }
                uint payload = ScoreKey.Payload(entry);
                if (payload == 0)
                {
                    negatives++;
                }
                else
                {
                    positives++;
                    if (inverseRegionSizes is not null)
                        coverage += inverseRegionSizes[payload];
                }
            }
            next[best] = i;
        }
        if (open)
            Emit(sinks, groupKey, negatives, positives, coverage);
    }

    private static void Emit(IScoreGroupSink[] sinks, uint key, long negatives, long positives, double coverage)
    {
        var group = new ScoreGroup(ScoreKey.Decode(key), negatives, positives, coverage);
        foreach (var sink in sinks)
            sink.Add(group);
    }
}
