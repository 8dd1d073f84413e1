using System.Diagnostics;
using PatchCore.Core;
using PatchCore.Core.Sampling;
using PatchCore.Core.Embedding;

namespace PatchCore.Bench;

/// <summary>
/// The candidate patch embeddings of a set of good images in a <see cref="CandidateStore"/>, kept for the scoring
/// and coreset sections. The loop is the one in PatchCoreBankBuilder.Fit, which keeps its store private.
/// </summary>
internal sealed class BottleCandidates : IDisposable
{
    private BottleCandidates(CandidateStore store, int images, TimeSpan extraction)
    {
        Store = store;
        Images = images;
        Extraction = extraction;
    }

    public CandidateStore Store { get; }
    public int Images { get; }
    public TimeSpan Extraction { get; }

    public static BottleCandidates Extract(FeaturePipeline pipeline, IReadOnlyList<string> images)
    {
        Report.Progress($"extracting candidate embeddings of {images.Count} training images");
        var store = new CandidateStore(pipeline.Dimension, BenchSettings.Coreset.ToStoreOptions() with { Device = pipeline.Device });
        try
        {
            var sw = Stopwatch.StartNew();
            PatchCoreBankBuilder.AppendFeatures(store, pipeline, images, roi: null, progress: null, CancellationToken.None);
            Report.Progress($"{Report.N(store.Count)} candidates in {sw.Elapsed.TotalSeconds:F1} s");
            return new BottleCandidates(store, images.Count, sw.Elapsed);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>The coreset every in-process bottle bank uses (fast exact greedy, 10 %, seed 0).</summary>
    public long[] SelectCoreset()
    {
        Report.Progress($"selecting the coreset of {Report.N(Store.Count)} candidates");
        return CoresetSampler.Select(Store, BenchSettings.Coreset).Indices;
    }

    public void Dispose() => Store.Dispose();
}
