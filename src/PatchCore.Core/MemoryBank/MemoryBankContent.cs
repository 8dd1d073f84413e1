namespace PatchCore.Core.MemoryBank;

/// <summary>The contents of a bank file: metadata, bank vectors [VectorCount, Dimension] and the serialized FAISS index.</summary>
public sealed record MemoryBankContent(BankMetadata Metadata, float[] Vectors, byte[] IndexBytes)
{
    /// <summary>Hex XxHash128 of the file's content (set when read or written).</summary>
    public string Checksum { get; init; } = "";
}
