using PatchCore.Core.Backbones;
using PatchCore.Core.Embedding;
using PatchCore.Core.Imaging;

namespace PatchCore.Core.MemoryBank;

/// <summary>Everything a bank file says about how it was made, apart from its vectors and index.</summary>
public sealed record BankMetadata
{
    public required string Backbone { get; init; }
    /// <summary>sha256 of the weights file the backbone was loaded from.</summary>
    public required string WeightsId { get; init; }
    public string WeightsDescription { get; init; } = "";
    public required Preprocessing Preprocessing { get; init; }
    public required ImageGeometry Geometry { get; init; }
    public required EmbeddingOptions Embedding { get; init; }
    public required CoresetSettings Coreset { get; init; }
    /// <summary>FAISS factory string of the stored index ("Flat" for exact).</summary>
    public required string IndexFactory { get; init; }
    public required int Dimension { get; init; }
    public required long VectorCount { get; init; }
    /// <summary>Patch embeddings the coreset was chosen from.</summary>
    public required long CandidateCount { get; init; }
    public required int TrainingImageCount { get; init; }
    public required IReadOnlyList<string> TrainingImages { get; init; }
    public required Calibration Calibration { get; init; }
    public required DateTimeOffset CreatedUtc { get; init; }
    public string Creator { get; init; } = "PatchCore.Core";
}

public sealed record CoresetSettings(double Fraction, int? Count, int ProjectionDimension, int StartPoints, int Seed);

/// <summary>
/// Image scores of held-out good images (never in the bank) and the default threshold derived from them.
/// Threshold rule: max(quantile(Quantile), mean + Sigmas * std) * (1 + Margin) over the held-out scores.
/// </summary>
public sealed record Calibration
{
    public IReadOnlyList<string> HeldOutImages { get; init; } = [];
    public IReadOnlyList<double> HeldOutScores { get; init; } = [];
    public double Mean { get; init; }
    public double StdDev { get; init; }
    public double Max { get; init; }
    public string Rule { get; init; } = "";
    public double? Threshold { get; init; }
}
