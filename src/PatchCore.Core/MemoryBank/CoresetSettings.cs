namespace PatchCore.Core.MemoryBank;

/// <summary>How the coreset of a bank was chosen: share or count of candidate patches kept, projection, start points, seed.</summary>
public sealed record CoresetSettings(double Fraction, int? Count, int ProjectionDimension, int StartPoints, int Seed)
{
    /// <summary>
    /// How well the bank covers the patches it was chosen from, in the coreset's projection (seeded, of
    /// <see cref="ProjectionDimension"/> dimensions): every candidate patch lies within this projected distance of a
    /// bank vector. The greedy k-center gives it for free (the largest remaining distance after its last centre). An
    /// update with no count adds new patches while one lies farther than this. Null in banks written before it was
    /// stored, and when a build's coreset was too small for the greedy to bound every candidate.
    /// </summary>
    public double? CoverageRadius { get; init; }

    /// <summary>
    /// The method that selected the coreset: <see cref="Sampling.CoresetMethod.Exact"/> or
    /// <see cref="Sampling.CoresetMethod.TwoStage"/> (whose <see cref="CoverageRadius"/> is an upper bound: the first
    /// pass's largest radius plus the second's). Null in banks written before it was stored (all exact).
    /// </summary>
    public Sampling.CoresetMethod? Method { get; init; }
}
