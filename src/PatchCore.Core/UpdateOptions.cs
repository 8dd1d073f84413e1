using PatchCore.Core.Devices;
using PatchCore.Core.Embedding;
using PatchCore.Core.Imaging;
using PatchCore.Core.Scoring;

namespace PatchCore.Core;

/// <summary>
/// How to update a bank with new good images (<see cref="PatchCoreBankUpdater.Update"/>). The model (backbone, weights,
/// geometry, embedding, region of interest) and the coreset's projection are the bank's own; the options that name
/// them are checks: each one that is set must match the bank, or the update is refused.
/// </summary>
public sealed record UpdateOptions
{
    /// <param name="bankPath">The bank to start from: a bank file, a version file or a <c>NAME.current</c> pointer. Never modified.</param>
    /// <param name="addedImages">The new good images.</param>
    /// <param name="outPath">The new bank file; null = the next version of the bank's series (<see cref="MemoryBank.BankVersions"/>), made current once written.</param>
    public UpdateOptions(string bankPath, IReadOnlyList<string> addedImages, string? outPath)
    {
        BankPath = bankPath;
        AddedImages = addedImages;
        OutPath = outPath;
    }

    public string BankPath { get; init; }
    public IReadOnlyList<string> AddedImages { get; init; }
    public string? OutPath { get; init; }

    /// <summary>
    /// How many vectors to add, as a share of the new candidate patches in (0, 1]; null with <see cref="CoresetCount"/>
    /// null = the coverage rule: add while a new patch lies farther from the bank than its stored coverage radius.
    /// </summary>
    public double? CoresetFraction { get; init; }
    /// <summary>How many vectors to add exactly (at most the number of new candidate patches); overrides <see cref="CoresetFraction"/>.</summary>
    public int? CoresetCount { get; init; }
    /// <summary>With the coverage rule, add at most this many vectors (a cap on the bank's growth per update); null = no cap.</summary>
    public int? MaxAddedVectors { get; init; }

    /// <summary>Share of the new images held out to calibrate (default 10 %); at least <see cref="MinHoldOut"/> when there are 2 or more.</summary>
    public double HoldOutFraction { get; init; } = 0.1;
    public int MinHoldOut { get; init; } = 1;

    /// <summary>Check: the bank's backbone name.</summary>
    public string? Backbone { get; init; }
    /// <summary>The checkpoint the bank was built with (its sha256 must match); needed when that was not the packaged ResNet18.</summary>
    public string? WeightsPath { get; init; }
    /// <summary>Check: the bank's resize and crop.</summary>
    public ImageGeometry? Geometry { get; init; }
    /// <summary>Check: the bank's embedding.</summary>
    public EmbeddingOptions? Embedding { get; init; }
    /// <summary>Check: the bank's region of interest (the same mask).</summary>
    public RegionOfInterest? Roi { get; init; }
    /// <summary>Check: the seed of the bank's coreset projection (an update continues in the bank's own projection).</summary>
    public int? Seed { get; init; }

    public DeviceKind Device { get; init; } = DeviceKind.Auto;
    /// <summary>Images per backbone batch; null = sized from the work budget.</summary>
    public int? BatchSize { get; init; }
    /// <summary>Bytes one batch or search chunk may use; null = from the device. A background update can keep this small.</summary>
    public long? WorkBudgetBytes { get; init; }
    /// <summary>Images decoded at once; null = one per processor.</summary>
    public int? DecodeParallelism { get; init; }
    public long MaxPixels { get; init; } = ImageDecoder.DefaultMaxPixels;
    /// <summary>Where the new candidates' full rows wait (as in <see cref="BuildOptions.CandidateRows"/>): a temp file by default, not process memory.</summary>
    public Sampling.CandidateRowStorage CandidateRows { get; init; } = Sampling.CandidateRowStorage.TempFile;

    public ThresholdRule ThresholdRule { get; init; } = new();
    public QuantileRule ReviewRule { get; init; } = new(1.0, 0);
    public QuantileRule PixelRule { get; init; } = new(0.999, 0.05);
    /// <summary>How the held-out images are scored for the calibration (as the bank will be used).</summary>
    public ScoringOptions Scoring { get; init; } = new();

    internal CalibrationRules Rules => new(ThresholdRule, ReviewRule, PixelRule);

    /// <summary>Validates the options themselves (the bank is checked when it is read); messages name the option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(BankPath)) throw new PatchCoreException("The bank to update (--bank) is needed.");
        if (AddedImages.Count == 0) throw new PatchCoreException("No images to add (--add) were given.");
        if (OutPath is not null && string.IsNullOrWhiteSpace(OutPath)) throw new PatchCoreException("The output path (--out) is empty.");
        if (CoresetFraction is double f && !(f > 0 && f <= 1)) throw new PatchCoreException($"--coreset share must be in (0, 1], got {f}.");
        if (CoresetCount is < 1) throw new PatchCoreException($"--coreset count must be at least 1, got {CoresetCount}.");
        if (MaxAddedVectors is < 0) throw new PatchCoreException($"The cap on added vectors must not be negative, got {MaxAddedVectors}.");
        if (!(HoldOutFraction >= 0 && HoldOutFraction < 1)) throw new PatchCoreException($"--holdout must be in [0, 1), got {HoldOutFraction}.");
        if (MinHoldOut < 0) throw new PatchCoreException($"Minimum hold-out must not be negative, got {MinHoldOut}.");
        if (!Enum.IsDefined(CandidateRows)) throw new PatchCoreException($"Unknown candidate row storage {(int)CandidateRows}.");
        Geometry?.Validate();
        Embedding?.Validate();
        Scoring.Validate();
        ThresholdRule.Validate();
        ReviewRule.Validate("review");
        PixelRule.Validate("pixel");
    }

    /// <summary>The new images held out to calibrate, and the rest (sorted by path, evenly spread: <see cref="HoldOutSplit"/>).</summary>
    public (string[] Bank, string[] HeldOut) SplitHoldOut() => HoldOutSplit.Split(AddedImages, HoldOutFraction, MinHoldOut);
}
