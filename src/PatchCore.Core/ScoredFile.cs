using System.Diagnostics.CodeAnalysis;
using PatchCore.Core.Imaging;
using PatchCore.Core.Scoring;

namespace PatchCore.Core;

/// <summary>
/// What <see cref="IImageScorer.ScoreFiles"/> gives for one input path: its detection (image score and anomaly map)
/// or the error that names the file and the problem. Holds the decoded image (its geometry, and its original pixels
/// when they were kept for overlays): dispose it.
/// </summary>
public sealed class ScoredFile : IDisposable
{
    private ScoredFile(int index, string path, Detection? detection, PatchCoreException? error, string? reason, ScoreTimings timings, DecodedImage? image)
    {
        Index = index;
        Path = path;
        Detection = detection;
        Error = error;
        Reason = reason;
        Timings = timings;
        Image = image;
    }

    /// <summary>A scored file. <paramref name="image"/> (optional) passes to the result, which disposes it.</summary>
    public static ScoredFile Scored(int index, string path, Detection detection, ScoreTimings timings, DecodedImage? image = null,
        Verdict? verdict = null, IReadOnlyList<DefectRegion>? regions = null) =>
        Scored(index, path, detection, timings, image, verdict, regions, inspected: null, regionPixels: null);

    internal static ScoredFile Scored(int index, string path, Detection detection, ScoreTimings timings, DecodedImage? image,
        Verdict? verdict, IReadOnlyList<DefectRegion>? regions, bool[]? inspected, byte[]? regionPixels) =>
        new(index, path, detection, null, null, timings, image) { Verdict = verdict, Regions = regions, Inspected = inspected, RegionPixels = regionPixels };

    /// <summary>A file that could not be scored: <paramref name="reason"/> says why, without the path.</summary>
    public static ScoredFile Failed(int index, string path, string reason, Exception? cause = null) =>
        new(index, path, null, cause as ImageLoadException ?? new PatchCoreException($"{path}: {reason}", cause ?? new InvalidDataException(reason)), reason, ScoreTimings.Zero, null);

    /// <summary>Position of the file in the list that was scored.</summary>
    public int Index { get; }
    public string Path { get; }
    /// <summary>Image score and anomaly map; null when the file could not be scored.</summary>
    public Detection? Detection { get; }
    /// <summary>Why the file could not be scored (the message names the file); null when it was scored.</summary>
    public PatchCoreException? Error { get; }
    /// <summary>The problem alone, without the path ("file is truncated ..."); null when the file was scored.</summary>
    public string? Reason { get; }
    public ScoreTimings Timings { get; }
    /// <summary>The verdict at the scorer's thresholds; null when it has no ng threshold (or the file was not scored).</summary>
    public Verdict? Verdict { get; private init; }
    /// <summary>Defect regions at the pixel threshold, highest peak first ([] when none); null without a pixel threshold.</summary>
    public IReadOnlyList<DefectRegion>? Regions { get; private init; }
    /// <summary>Model-input pixels inside the bank's region of interest; null when the whole image is inspected.</summary>
    internal bool[]? Inspected { get; init; }
    /// <summary>Model-input pixels of the reported regions (1 = defect), for the defect mask; null without regions.</summary>
    internal byte[]? RegionPixels { get; init; }

    /// <summary>The decoded image the detection belongs to (geometry; original pixels when kept for overlays), if any.</summary>
    public DecodedImage? Image { get; private set; }

    /// <summary>True when the file could not be scored because it does not exist (it vanished, or was never there).</summary>
    public bool Missing => Error is ImageLoadException { IsMissing: true };

    [MemberNotNullWhen(true, nameof(Detection))]
    [MemberNotNullWhen(false, nameof(Error), nameof(Reason))]
    public bool Succeeded => Detection is not null;

    /// <summary>The image score; throws the file's error when it could not be scored.</summary>
    public double Score => Succeeded ? Detection.Score : throw Error;

    public void Dispose()
    {
        Image?.Dispose();
        Image = null;
    }
}
