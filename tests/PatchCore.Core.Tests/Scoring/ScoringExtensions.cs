using PatchCore.Core.Scoring;
using Xunit;

namespace PatchCore.Core.Tests.Scoring;

internal static class ScoringExtensions
{
    /// <summary>Scores every path through the one scoring path; fails the test, naming the file, if one cannot be scored.</summary>
    public static Detection[] ScoreAll(this IImageScorer scorer, IReadOnlyList<string> paths)
    {
        var detections = new Detection[paths.Count];
        foreach (var file in scorer.ScoreFiles(paths))
        {
            using (file)
            {
                Assert.True(file.Succeeded, $"{file.Path}: {file.Reason}");
                detections[file.Index] = file.Detection;
            }
        }
        return detections;
    }
}
