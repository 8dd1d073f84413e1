namespace PatchCore.Core.Sampling;

/// <summary>
/// What a greedy k-center selection chose, and how well it covers its candidates in the projection.
/// </summary>
/// <param name="Indices">Original candidate row indices in selection order.</param>
/// <param name="LargestRemaining">
/// The largest remaining min distance m after the last centre was applied: the projected distance of the point the
/// next step would choose (0 when every candidate was selected).
/// </param>
/// <param name="CoverageRadius">
/// <see cref="LargestRemaining"/> when it bounds every candidate's projected distance to the nearest selected row (or,
/// in an update, to the nearest bank row or selected row): then no candidate lies farther than it. Null when some
/// candidate's m may still be its start value rather than a distance to a centre: a build's m starts as the mean
/// distance to random start points, which only a tiny coreset fails to bring under every start value.
/// </param>
internal sealed record CoresetSelection(long[] Indices, float LargestRemaining, float? CoverageRadius);
