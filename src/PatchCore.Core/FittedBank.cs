using PatchCore.Core.Embedding;
using PatchCore.Core.MemoryBank;

namespace PatchCore.Core;

/// <summary>
/// A bank fitted in memory: coreset vectors [VectorCount, Dimension] and its FAISS index serialized as the bank file
/// stores it (<see cref="PatchCoreBankBuilder.Fit"/>).
/// </summary>
internal sealed record FittedBank
{
    public required float[] Vectors { get; init; }
    public required int Dimension { get; init; }
    public long VectorCount => Vectors.Length / Dimension;
    /// <summary>Patch embeddings the coreset was chosen from.</summary>
    public required long Candidates { get; init; }
    /// <summary>FAISS factory string of the stored index ("Flat" for exact).</summary>
    public required string IndexFactory { get; init; }
    public required byte[] IndexBytes { get; init; }
    public required CoresetSettings CoresetSettings { get; init; }
    /// <summary>The images whose patches were the candidates.</summary>
    public required IReadOnlyList<string> Images { get; init; }
    public required TimeSpan FeatureTime { get; init; }
    public required TimeSpan CoresetTime { get; init; }
    public required TimeSpan IndexTime { get; init; }
    /// <summary>The region of interest the candidates were taken from; null = whole images.</summary>
    public Imaging.RegionOfInterest? Roi { get; init; }

    /// <summary>The bank file's content for this bank, made with <paramref name="pipeline"/> (checksum set when it is written).</summary>
    public MemoryBankContent ToContent(FeaturePipeline pipeline, Calibration calibration)
    {
        var extractor = pipeline.Extractor;
        var metadata = new BankMetadata
        {
            Backbone = extractor.BackboneName,
            WeightsId = extractor.WeightsId,
            WeightsDescription = extractor.WeightsDescription,
            Preprocessing = extractor.Preprocessing,
            Geometry = pipeline.Options.Geometry,
            Embedding = pipeline.Options.Embedding,
            Coreset = CoresetSettings,
            IndexFactory = IndexFactory,
            Dimension = Dimension,
            VectorCount = VectorCount,
            CandidateCount = Candidates,
            TrainingImageCount = Images.Count,
            TrainingImages = Images.Select(Path.GetFileName).ToArray()!,
            Calibration = calibration,
            Roi = Roi,
            CreatedUtc = DateTimeOffset.UtcNow,
        };
        return new MemoryBankContent(metadata, Vectors, IndexBytes);
    }
}
