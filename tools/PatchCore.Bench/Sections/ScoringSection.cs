using System.Diagnostics;
using PatchCore.Core;
using PatchCore.Core.Evaluation;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;
using PatchCore.Core.Search;
using PatchCore.Core.Embedding;

namespace PatchCore.Bench.Sections;

/// <summary>
/// 3. Scoring the category's test images one at a time (batch 1), split into decode, backbone + embedding, search
/// and map, against one coreset bank searched four ways: FAISS Flat (exact, the paper's search), the exact projected
/// search (the library's default on the CPU), FAISS IVF (approximate) and the projected IVF (approximate); image AUROC
/// of each.
/// </summary>
internal sealed class ScoringSection : IBenchSection
{
    /// <summary>An approximate index's image AUROC must stay this close to the exact one's.</summary>
    public const double AurocTolerance = 0.005;

    public string Name => "scoring";
    public string Title => "Scoring per image (batch 1): exact and approximate searches";
    public bool NeedsData => true;

    public void Run(BenchContext context)
    {
        var pipeline = context.Pipeline;
        var candidates = context.Candidates;
        long[] coreset = context.Coreset;
        float[] bank = candidates.Store.ReadRows(coreset);
        var approx = ApproximateIndex.ForBankSize(coreset.Length);
        var test = context.TestImages;
        bool[] labels = test.Select(t => t.IsAnomalous).ToArray();
        int dim = pipeline.Dimension;

        Report.Progress($"preparing the four searches over {Report.N(coreset.Length)} vectors");
        using var flat = FaissIndex.Create(dim, "Flat");
        flat.Add(bank);
        var sw = Stopwatch.StartNew();
        using var projected = ProjectedFlatIndex.Over(bank, dim);
        projected.Prepare();
        double projectedPrepare = sw.Elapsed.TotalSeconds;
        using var ivf = FaissIndex.Create(dim, approx.Factory);
        ivf.Add(bank);
        approx.ApplySearchParameters(ivf);
        sw.Restart();
        using var projectedIvf = ProjectedIvfIndex.Over(bank, dim);
        projectedIvf.Prepare();
        double projectedIvfPrepare = sw.Elapsed.TotalSeconds;

        var searches = new (string Label, INearestNeighbourIndex Index, bool Exact, INearestNeighbourIndex? Refine)[]
        {
            ("FAISS Flat (exact; before)", flat, true, null),
            ($"projected ({projected.Options})", projected, true, null),
            ($"FAISS {approx.Label} (approx.; before)", ivf, false, null),
            ($"projected IVF{projectedIvf.ListCount} nprobe={projectedIvf.Options.Probes} (approx.)", projectedIvf, false, null),
            ($"projected IVF{projectedIvf.ListCount} + exact image maxima", projectedIvf, false, projected),
        };
        Report.Progress($"scoring {test.Count} images against {string.Join(", ", searches.Select(x => x.Label))}");
        var runs = ScoreAll(pipeline, bank, searches.Select(x => (x.Index, x.Refine)).ToArray(), test, projected);
        double[] aurocs = runs.Select(r => ImageAuroc.Compute(r.ImageScores, labels)).ToArray();

        var rows = searches.Select((x, i) => new[]
        {
            x.Label,
            Report.F(runs[i].Median(s => s.Decode), 1),
            Report.F(runs[i].Median(s => s.Embed), 1),
            Report.F(runs[i].Median(s => s.Search), 2),
            Report.F(runs[i].Median(s => s.Map), 2),
            Report.F(runs[i].Median(s => s.Total), 1),
            Report.F(runs[i].ImagesPerSecond, 2),
            Report.F(aurocs[i], 4),
        });
        Report.Table(["search", "decode ms", "backbone+embed ms", "search ms", "map ms", "total ms", "images/s", "image AUROC"], rows);

        Report.Line($"{test.Count} test images ({labels.Count(l => l)} defective), bank {Report.N(coreset.Length)} x {dim} from {Report.N(candidates.Store.Count)} candidates of {candidates.Images} training images.");
        Report.Line("Medians over images. Each image is decoded and embedded once (those columns are shared) and then searched and mapped with each search;");
        Report.Line("total = decode + backbone+embed + search + map of each image; images/s = images / sum of totals (one image at a time, after one warm-up image).");
        double searchFlat = runs[0].Median(s => s.Search), searchProjected = runs[1].Median(s => s.Search), searchIvf = runs[3].Median(s => s.Search), searchIvfRefined = runs[4].Median(s => s.Search);
        Report.Line($"Exact search: projected {searchProjected:F1} ms vs FAISS Flat {searchFlat:F1} ms = {searchFlat / searchProjected:F1}x; median {runs[1].Median(s => s.ExactPerQuery):F1} exact distances per patch");
        Report.Line($"  (of {Report.N(coreset.Length)}), {runs[1].Median(s => s.RefinedPerQuery):F1} refined bounds; PCA fit, bank projection and {projected.ListCount} k-means lists {projectedPrepare:F2} s at load; {projected.ExplainedVariance:P1} of the bank's variance in the first {projected.Options.ProjectionDim} components.");
        Report.Line($"  Projected search time (medians): query projection {runs[1].Median(s => s.ProjectionMs):F1} ms, sgemm against the list centroids {runs[1].Median(s => s.GemmMs):F1} ms, list scans (coarse and refined bounds, exact distances) {runs[1].Median(s => s.RowsMs):F1} ms.");
        Report.Line($"Approximate: projected IVF {searchIvf:F1} ms = {searchProjected / searchIvf:F1}x faster than the exact projected search, {searchFlat / searchIvf:F1}x faster than FAISS Flat; lists built in {projectedIvfPrepare:F2} s.");
        Report.Line($"  With exact image maxima (the library's projected-approx: each image's highest patches re-searched exactly, median {runs[4].Median(s => s.RefinedPatches):F0} of {runs[4].PatchesPerImage} per image):");
        Report.Line($"  {searchIvfRefined:F1} ms = {searchProjected / searchIvfRefined:F1}x faster than the exact projected search; image scores equal the exact ones, only the map is approximate.");
        for (int i = 0; i < searches.Length; i++)
        {
            if (searches[i].Exact) continue;
            double difference = aurocs[i] - aurocs[0];
            string verdict = Math.Abs(difference) <= AurocTolerance ? "within" : "OUTSIDE";
            Report.Line($"{searches[i].Label}: AUROC - exact = {difference:+0.0000;-0.0000;0.0000} ({verdict} {AurocTolerance}); {PatchAgreement(runs[0].PatchScores, runs[i].PatchScores):P2} of patches get the exact distance; largest image-score change {MaxChange(runs[0].ImageScores, runs[i].ImageScores):P3}.");
        }
        if (context.Settings.Quick) Report.Line($"--quick: every {Report.Ordinal(context.Settings.TestStride)} test image and a bank from every {Report.Ordinal(context.Settings.TrainStride)} training image.");
    }

    /// <summary>
    /// Decodes and embeds each image once, then searches and maps it with every index in turn, so that the runs
    /// share the decode and backbone work (it does not depend on the index) and see the same machine load.
    /// </summary>
    private static ScoringRun[] ScoreAll(FeaturePipeline pipeline, float[] bank, (INearestNeighbourIndex Index, INearestNeighbourIndex? Refine)[] searches, IReadOnlyList<MvtecTestItem> test, ProjectedFlatIndex projected)
    {
        // One search call per image: a 224x224 image has 784 patches, far below any chunk limit.
        var scorers = searches.Select(x => new AnomalyScorer(x.Index, bank, new ScoringOptions(), queryChunkRows: 1 << 16, exactForMaxima: x.Refine)).ToArray();
        var indexes = searches.Select(x => x.Index).ToArray();
        var runs = scorers.Select(_ => new ScoringRun(test.Count)).ToArray();
        for (int i = -1; i < test.Count; i++)
        {
            // i = -1 is the warm-up on the first image, not recorded.
            string path = test[Math.Max(i, 0)].ImagePath;
            long t0 = Stopwatch.GetTimestamp();
            using var image = pipeline.Decoder.Decode(path);
            long t1 = Stopwatch.GetTimestamp();
            using EmbeddedBatch e = pipeline.Embed([image]);
            long t2 = Stopwatch.GetTimestamp();
            for (int s = 0; s < scorers.Length; s++)
            {
                // Orchestration: the calls PatchCoreDetector.ScoreFiles makes after the embedding, each timed.
                long t3 = Stopwatch.GetTimestamp();
                float[] patches = scorers[s].PatchScores(e.Values);
                bool isProjected = ReferenceEquals(indexes[s], projected);
                var projectedStats = isProjected ? (projected.ExactDistancesPerQuery, projected.RefinedBoundsPerQuery, projected.LastTimes) : default;
                int refined = scorers[s].RefineImageMaxima(patches, e.Values, e.PatchesPerImage);
                long t4 = Stopwatch.GetTimestamp();
                var detection = scorers[s].FromPatchScores([path], patches, e.Values, e.GridWidth, e.GridHeight, image.InputWidth, image.InputHeight)[0];
                long t5 = Stopwatch.GetTimestamp();
                if (i >= 0)
                    runs[s].Add(i, new StepTimes(Ms(t0, t1), Ms(t1, t2), Ms(t3, t4), Ms(t4, t5),
                        projectedStats.ExactDistancesPerQuery, projectedStats.RefinedBoundsPerQuery,
                        projectedStats.LastTimes.Projection.TotalMilliseconds, projectedStats.LastTimes.Gemm.TotalMilliseconds,
                        projectedStats.LastTimes.Rows.TotalMilliseconds, refined), detection.Score, patches);
            }
        }
        return runs;
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    /// <summary>Share of patches whose approximate distance equals the exact one (an approximate search never finds a nearer vector).</summary>
    private static double PatchAgreement(float[] exact, float[] approx)
    {
        int same = 0;
        for (int i = 0; i < exact.Length; i++)
            if (approx[i] <= exact[i] * (1 + 1e-5f) + 1e-6f) same++;
        return (double)same / exact.Length;
    }

    private static double MaxChange(float[] exact, float[] approx)
    {
        double max = 0;
        for (int i = 0; i < exact.Length; i++)
            max = Math.Max(max, Math.Abs(approx[i] - exact[i]) / Math.Max(1e-12, Math.Abs(exact[i])));
        return max;
    }

    private sealed record StepTimes(double Decode, double Embed, double Search, double Map, double ExactPerQuery, double RefinedPerQuery,
        double ProjectionMs, double GemmMs, double RowsMs, int RefinedPatches)
    {
        public double Total => Decode + Embed + Search + Map;
    }

    private sealed class ScoringRun(int images)
    {
        private readonly List<StepTimes> _steps = [];
        private readonly List<float> _patches = [];

        public float[] ImageScores { get; } = new float[images];
        public float[] PatchScores => _patches.ToArray();

        public void Add(int image, StepTimes times, double score, float[] patches)
        {
            _steps.Add(times);
            ImageScores[image] = (float)score;
            _patches.AddRange(patches);
        }

        public double Median(Func<StepTimes, double> step) => Samples.Median(_steps.Select(step).ToArray());
        public double ImagesPerSecond => _steps.Count / (_steps.Sum(s => s.Total) / 1000);
        public int PatchesPerImage => _patches.Count / Math.Max(1, _steps.Count);
    }
}
