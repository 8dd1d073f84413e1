namespace PatchCore.Core.Sampling;

/// <summary>How the greedy coreset is selected from the candidates (<see cref="CoresetOptions.Method"/>).</summary>
public enum CoresetMethod
{
    /// <summary>
    /// <see cref="Exact"/> up to <see cref="CoresetOptions.TwoStageAbove"/> candidates (1,000,000 by default),
    /// <see cref="TwoStage"/> above it.
    /// </summary>
    Auto,

    /// <summary>The greedy k-center over every candidate at once (the paper's; cost grows with candidates x bank size).</summary>
    Exact,

    /// <summary>
    /// A first greedy pass over fixed blocks of candidates keeps a multiple of the final share of each block, then the
    /// exact greedy runs on the survivors (<see cref="TwoStageCoreset"/>): cost and memory grow far more slowly.
    /// </summary>
    TwoStage,
}
