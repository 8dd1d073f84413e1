using System.Diagnostics;
using PatchCore.Core.Sampling;

namespace PatchCore.Bench.Sections;

/// <summary>
/// 4. Coreset selection on the real candidates: the fast exact path <see cref="CoresetSampler.Select"/> against the
/// plain O(N x count) loop <see cref="CoresetSampler.SelectPlain"/>, with the coverage radius of each selection in
/// the full 1024-D space (max over candidates of the distance to the nearest selected row).
/// </summary>
internal sealed class CoresetSection : IBenchSection
{
    public string Name => "coreset";
    public string Title => "Coreset: fast Select vs SelectPlain on the real candidates";
    public bool NeedsData => true;

    public void Run(BenchContext context)
    {
        var store = context.Candidates.Store;
        var options = BenchSettings.Coreset;
        int count = options.ResolveCount(store.Count);
        Report.Progress($"coreset {Report.N(store.Count)} -> {Report.N(count)}: fast path");
        var sw = Stopwatch.StartNew();
        long[] fast = CoresetSampler.Select(store, options).Indices;
        double fastSeconds = sw.Elapsed.TotalSeconds;
        context.Coreset = fast;

        Report.Progress("plain loop");
        sw.Restart();
        long[] plain = CoresetSampler.SelectPlain(store, options).Indices;
        double plainSeconds = sw.Elapsed.TotalSeconds;

        bool identical = fast.AsSpan().SequenceEqual(plain);
        var device = context.Pipeline.Device;
        Report.Progress("coverage radius of the fast selection");
        sw.Restart();
        double fastRadius = CoresetSampler.CoverageRadius(store, fast, device);
        double radiusSeconds = sw.Elapsed.TotalSeconds;
        double plainRadius = fastRadius;
        if (!identical)
        {
            Report.Progress("coverage radius of the plain selection");
            plainRadius = CoresetSampler.CoverageRadius(store, plain, device);
        }

        Report.Table(["method", "seconds", "selected", "coverage radius (1024-D)"],
        [
            ["Select (fast, blocked)", Report.F(fastSeconds, 2), Report.N(fast.Length), Report.F(fastRadius, 4)],
            ["SelectPlain (reference)", Report.F(plainSeconds, 2), Report.N(plain.Length), Report.F(plainRadius, 4)],
        ]);
        Report.Line($"{Report.N(store.Count)} x {store.Dimension} candidates -> {Report.N(count)} (fraction {options.Fraction}, {options.ProjectionDim}-D projection, seed {options.Seed}).");
        Report.Line($"Same count: {(fast.Length == plain.Length ? "yes" : "NO")}; same indices in the same order: {(identical ? "yes" : "NO")}; " +
                    $"radius ratio fast/plain = {fastRadius / plainRadius:F4}; speed-up {plainSeconds / fastSeconds:F1}x.");
        Report.Line(identical
            ? $"The selections are identical, so their radius is one number, computed once ({radiusSeconds:F1} s for {Report.N(store.Count)} x {Report.N(fast.Length)} distances)."
            : "The selections differ: each radius was computed separately.");
    }
}
