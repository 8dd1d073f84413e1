using PatchCore.Core.Scoring;

namespace PatchCore.Core;

/// <summary>How to build a memory bank from good images.</summary>
public sealed record BuildOptions
{
    public BuildOptions(IReadOnlyList<string> trainImages, string outPath)
    {
        TrainImages = trainImages;
        OutPath = outPath;
    }

    public IReadOnlyList<string> TrainImages { get; init; }
    public string OutPath { get; init; }
    public ModelOptions Model { get; init; } = new();
    /// <summary>
    /// Choose the resize from the training images (<see cref="Imaging.AutoGeometry"/>, <c>--geometry auto</c>) instead
    /// of <see cref="ModelOptions.Geometry"/>'s; its tiling is kept. <see cref="ResolveGeometry"/> makes the choice.
    /// </summary>
    public bool AutoGeometry { get; init; }
    /// <summary>Share of candidate patches kept (0, 1]; ignored when <see cref="CoresetCount"/> is set.</summary>
    public double CoresetFraction { get; init; } = 0.1;
    public int? CoresetCount { get; init; }
    /// <summary>
    /// Exact greedy, two-stage (a greedy pass per block of candidates, then the exact greedy on the survivors), or Auto:
    /// two-stage above 1,000,000 candidate patches (<see cref="Sampling.CoresetMethod"/>).
    /// </summary>
    public Sampling.CoresetMethod CoresetMethod { get; init; } = Sampling.CoresetMethod.Auto;
    public int Seed { get; init; }
    /// <summary>"Flat" (exact) or a FAISS factory string such as "IVF1024,Flat" or "HNSW32".</summary>
    public string IndexFactory { get; init; } = "Flat";
    /// <summary>Share of good images kept out of the bank to calibrate the threshold (0 = none).</summary>
    public double HoldOutFraction { get; init; } = 0.1;
    /// <summary>At least this many are held out when <see cref="HoldOutFraction"/> is positive (and the set allows it).</summary>
    public int MinHoldOut { get; init; } = 3;
    /// <summary>
    /// Where the full-width candidate rows wait during the build. The coreset runs on their projections (in memory up to 512 MiB) and
    /// only the selected rows are read back, so the default keeps them in a temp file (OS page cache, not process
    /// memory); <see cref="Sampling.CandidateRowStorage.Memory"/> keeps them in RAM (mapped files beyond half of it).
    /// </summary>
    public Sampling.CandidateRowStorage CandidateRows { get; init; } = Sampling.CandidateRowStorage.TempFile;
    public ThresholdRule ThresholdRule { get; init; } = new();
    /// <summary>The review threshold from held-out good image scores: their maximum.</summary>
    public QuantileRule ReviewRule { get; init; } = new(1.0, 0);
    /// <summary>The pixel threshold from all held-out good anomaly-map pixels: the 0.999 quantile x 1.05.</summary>
    public QuantileRule PixelRule { get; init; } = new(0.999, 0.05);
    /// <summary>The part of every image that is inspected (white) or ignored (black); null = all of it.</summary>
    public Imaging.RegionOfInterest? Roi { get; init; }
    public ScoringOptions Scoring { get; init; } = new();
    /// <summary>
    /// How image scores are read: the paper's highest patch distance, by position (needs held-out images), or Auto
    /// (default): by position when the held-out images allow it, else the highest patch distance (<see cref="ImageScoreRule"/>).
    /// </summary>
    public ImageScoreRule ImageScore { get; init; } = ImageScoreRule.Auto;

    internal CalibrationRules Rules => new(ThresholdRule, ReviewRule, PixelRule, ImageScore);

    public void Validate()
    {
        Model.Validate();
        Scoring.Validate();
        ThresholdRule.Validate();
        ReviewRule.Validate("review");
        PixelRule.Validate("pixel");
        if (TrainImages.Count == 0) throw new PatchCoreException("No training images were given.");
        if (string.IsNullOrWhiteSpace(OutPath)) throw new PatchCoreException("An output path for the bank is needed.");
        if (!(CoresetFraction > 0 && CoresetFraction <= 1)) throw new PatchCoreException($"Coreset fraction must be in (0, 1], got {CoresetFraction}.");
        if (CoresetCount is < 1) throw new PatchCoreException($"Coreset count must be at least 1, got {CoresetCount}.");
        if (!Enum.IsDefined(CoresetMethod)) throw new PatchCoreException($"Unknown coreset method {CoresetMethod}: expected Auto, Exact or TwoStage.");
        if (!(HoldOutFraction >= 0 && HoldOutFraction < 1)) throw new PatchCoreException($"Hold-out fraction must be in [0, 1), got {HoldOutFraction}.");
        if (MinHoldOut < 0) throw new PatchCoreException($"Minimum hold-out must not be negative, got {MinHoldOut}.");
        if (!Enum.IsDefined(ImageScore)) throw new PatchCoreException($"Unknown image score rule {(int)ImageScore}: expected Max, Position or Auto.");
        if (ImageScore == ImageScoreRule.Position && HoldOutFraction == 0)
            throw new PatchCoreException("The image score by position is calibrated on held-out good images: a hold-out share above 0 is needed (--holdout).");
        if (!Enum.IsDefined(CandidateRows)) throw new PatchCoreException($"Unknown candidate row storage {(int)CandidateRows}.");
        if (string.IsNullOrWhiteSpace(IndexFactory)) throw new PatchCoreException("An index factory string is needed (Flat for exact).");
    }

    /// <summary>
    /// These options with the geometry the bank will have: with <see cref="AutoGeometry"/> the one chosen from
    /// <see cref="TrainImages"/> (returned too, to be shown), otherwise unchanged (choice null).
    /// </summary>
    public (BuildOptions Options, Imaging.GeometryChoice? Choice) ResolveGeometry()
    {
        if (!AutoGeometry) return (this, null);
        var choice = Imaging.AutoGeometry.Choose(TrainImages, Model.Geometry.Tile);
        return (this with { AutoGeometry = false, Model = Model with { Geometry = choice.Geometry } }, choice);
    }

    /// <summary>The held-out images (<see cref="HoldOutFraction"/>, at least <see cref="MinHoldOut"/>) and the rest: see <see cref="HoldOutSplit"/>.</summary>
    public (string[] Bank, string[] HeldOut) SplitHoldOut() => HoldOutSplit.Split(TrainImages, HoldOutFraction, MinHoldOut);
}
