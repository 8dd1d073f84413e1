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
    /// <summary>The part of every image that is inspected; null = whole images.</summary>
    public RegionOfInterest? Roi { get; init; }
    public required DateTimeOffset CreatedUtc { get; init; }
    public string Creator { get; init; } = "PatchCore.Core";
}
