namespace PatchCore.Core.MemoryBank;

/// <summary>How the coreset of a bank was chosen: share or count of candidate patches kept, projection, start points, seed.</summary>
public sealed record CoresetSettings(double Fraction, int? Count, int ProjectionDimension, int StartPoints, int Seed);
