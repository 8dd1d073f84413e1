namespace PatchCore.Inspection.Processing;

/// <summary>What the checks learnt of a file before scoring: its size and content hash, as its record states them.</summary>
/// <param name="Sha256">Hex SHA-256; null when the file could not be read.</param>
internal sealed record FileFacts(long Size, string? Sha256);
