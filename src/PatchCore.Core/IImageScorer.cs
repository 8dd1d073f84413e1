using PatchCore.Core.Scoring;

namespace PatchCore.Core;

/// <summary>
/// A loaded bank that scores image files: what a host (the inspection daemon, the command line) needs of a detector,
/// and the seam where tests put a scorer of their own. <see cref="PatchCoreDetector"/> implements it.
/// </summary>
public interface IImageScorer : IDisposable
{
    /// <summary>Content checksum of the bank, hex.</summary>
    string BankId { get; }

    /// <summary>The thresholds its verdicts and regions use (the bank's calibrated ones unless overridden).</summary>
    Thresholds Thresholds { get; }

    /// <summary>
    /// Scores any number of files and yields, in input order, one <see cref="ScoredFile"/> per path: a detection with
    /// its verdict and regions, or the error for that file (unreadable, not an image, too large, scoring failed); one
    /// bad file never stops the others. Decoding in parallel, batching by input size and device batch sizes are the
    /// scorer's business. With <paramref name="keepOriginals"/> each result keeps the original pixels, so overlays
    /// and masks are drawn at the original size. Results are produced lazily; dispose each one. One enumeration at a
    /// time per scorer.
    /// </summary>
    IEnumerable<ScoredFile> ScoreFiles(IReadOnlyList<string> paths, bool keepOriginals = false, CancellationToken ct = default);

    /// <summary>Writes the heatmap overlay of a scored file as PNG, in the bank's colour scale, with its regions boxed.</summary>
    void WriteHeatmap(ScoredFile scored, string pngPath);

    /// <summary>Writes the binary defect mask of a scored file as PNG (white = in a reported region), at the image's original size.</summary>
    void WriteDefectMask(ScoredFile scored, string pngPath);
}
