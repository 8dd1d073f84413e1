using PatchCore.Core.Backbones;
using PatchCore.Core.Embedding;
using PatchCore.Core.Imaging;
using System.Text.Json.Serialization;

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
    /// <summary>Images whose patches were candidates (the held-out ones never are), across the build and every update.</summary>
    public required int TrainingImageCount { get; init; }
    /// <summary>Their file names.</summary>
    public required IReadOnlyList<string> TrainingImages { get; init; }
    public required Calibration Calibration { get; init; }
    /// <summary>The part of every image that is inspected; null = whole images.</summary>
    public RegionOfInterest? Roi { get; init; }
    public required DateTimeOffset CreatedUtc { get; init; }
    public string Creator { get; init; } = "PatchCore.Core";
    /// <summary>
    /// The bank's lineage, oldest first: every update since it was built, each naming its parent bank and what it
    /// added; the last is the update that made this bank. Empty for a bank as built (and in banks written before
    /// updates existed).
    /// </summary>
    public IReadOnlyList<BankUpdate> Updates { get; init; } = [];

    /// <summary>The id of the bank this one was updated from; null for a bank as built.</summary>
    [JsonIgnore]
    public string? ParentId => Updates.Count == 0 ? null : Updates[^1].ParentId;
}
