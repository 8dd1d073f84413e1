namespace PatchCore.Core;

/// <summary>
/// A loaded bank that scores image files: what a host (the inspection daemon, the command line) needs of a detector,
/// and the seam where tests put a scorer of their own. <see cref="PatchCoreDetector"/> implements it.
/// </summary>
public interface IImageScorer : IDisposable
{
    /// <summary>Content checksum of the bank, hex.</summary>
    string BankId { get; }

    /// <summary>The bank's calibrated threshold on image scores; null when it has none.</summary>
    double? Threshold { get; }

    /// <summary>
    /// Scores any number of files and yields, in input order, one <see cref="ScoredFile"/> per path: a detection, or the
    /// error for that file (unreadable, not an image, too large, scoring failed); one bad file never stops the others.
    /// Decoding in parallel, batching by input size and device batch sizes are the scorer's business. With
    /// <paramref name="keepOriginals"/> each result keeps the original pixels, for <see cref="WriteHeatmap"/>.
    /// Results are produced lazily; dispose each one. One enumeration at a time per scorer.
    /// </summary>
    IEnumerable<ScoredFile> ScoreFiles(IReadOnlyList<string> paths, bool keepOriginals = false, CancellationToken ct = default);

    /// <summary>
    /// Writes the heatmap overlay of a scored file as PNG (on the original pixels when they were kept, else on the
    /// model input). The colour scale is anchored at <paramref name="threshold"/>, else at the bank's.
    /// </summary>
    void WriteHeatmap(ScoredFile scored, string pngPath, double? threshold = null);
}
