using System.Diagnostics;
using PatchCore.Core;
using PatchCore.Core.Evaluation;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;

namespace PatchCore.Bench.Sections;

/// <summary>
/// 3. Scoring the category's test images one at a time (batch 1), split into decode, backbone + embedding, search
/// and map, against one coreset bank held in a Flat index and in the approximate index; image AUROC of each.
/// </summary>
internal sealed class ScoringSection : IBenchSection
{
    /// <summary>The approximate index's image AUROC must stay this close to the exact one's.</summary>
    public const double AurocTolerance = 0.005;

    public string Name => "scoring";
    public string Title => "Scoring per image (batch 1): Flat vs approximate index";
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

        Report.Progress($"scoring {test.Count} images against Flat and {approx.Label}");
        using var flatIndex = FaissIndex.Create(pipeline.Dimension, "Flat");
        flatIndex.Add(bank);
        using var approxIndex = FaissIndex.Create(pipeline.Dimension, approx.Factory);
        approxIndex.Add(bank);
        approx.ApplySearchParameters(approxIndex);
        var (exact, fast) = ScoreAll(pipeline, bank, flatIndex, approxIndex, test);
        double aurocExact = ImageAuroc.Compute(exact.ImageScores, labels);
        double aurocFast = ImageAuroc.Compute(fast.ImageScores, labels);

        var rows = new[] { (Label: "Flat (exact)", Run: exact, Auroc: aurocExact), (Label: approx.Label, Run: fast, Auroc: aurocFast) }
            .Select(x => new[]
            {
                x.Label,
                Report.F(x.Run.Median(s => s.Decode), 1),
                Report.F(x.Run.Median(s => s.Embed), 1),
                Report.F(x.Run.Median(s => s.Search), 2),
                Report.F(x.Run.Median(s => s.Map), 2),
                Report.F(x.Run.Median(s => s.Total), 1),
                Report.F(x.Run.ImagesPerSecond, 2),
                Report.F(x.Auroc, 4),
            });
        Report.Table(["index", "decode ms", "backbone+embed ms", "search ms", "map ms", "total ms", "images/s", "image AUROC"], rows);

        double difference = aurocFast - aurocExact;
        string verdict = Math.Abs(difference) <= AurocTolerance ? "within" : "OUTSIDE";
        Report.Line($"{test.Count} test images ({labels.Count(l => l)} defective), bank {Report.N(coreset.Length)} x {pipeline.Dimension} from {Report.N(candidates.Store.Count)} candidates of {candidates.Images} training images.");
        Report.Line("Medians over images. Each image is decoded and embedded once (those columns are shared) and then searched and mapped with each index;");
        Report.Line("total = decode + backbone+embed + search + map of each image; images/s = images / sum of totals (one image at a time, after one warm-up image).");
        Report.Line($"AUROC difference approximate - exact = {difference:+0.0000;-0.0000;0.0000} ({verdict} the tolerance of {AurocTolerance}).");
        Report.Line($"Patch nearest neighbours: {PatchAgreement(exact.PatchScores, fast.PatchScores):P2} of {Report.N(exact.PatchScores.Length)} patches get the exact distance from {approx.Factory}; largest image-score change {MaxChange(exact.ImageScores, fast.ImageScores):P3}.");
        if (context.Settings.Quick) Report.Line($"--quick: every {Report.Ordinal(context.Settings.TestStride)} test image and a bank from every {Report.Ordinal(context.Settings.TrainStride)} training image.");
    }

    /// <summary>
    /// Decodes and embeds each image once, then searches and maps it against both indexes in turn, so that the
    /// two runs share the decode and backbone work (it does not depend on the index) and see the same machine load.
    /// </summary>
    private static (ScoringRun Exact, ScoringRun Approx) ScoreAll(FeaturePipeline pipeline, float[] bank, FaissIndex exactIndex, FaissIndex approxIndex, IReadOnlyList<MvtecTestItem> test)
    {
        // One search call per image: a 224x224 image has 784 patches, far below any chunk limit.
        var scorers = new[] { exactIndex, approxIndex }.Select(i => new AnomalyScorer(i, bank, new ScoringOptions(), queryChunkRows: 1 << 16)).ToArray();
        var runs = scorers.Select(_ => new ScoringRun(test.Count)).ToArray();
        for (int i = -1; i < test.Count; i++)
        {
            // i = -1 is the warm-up on the first image, not recorded.
            string path = test[Math.Max(i, 0)].ImagePath;
            long t0 = Stopwatch.GetTimestamp();
            using var image = pipeline.Decoder.Decode(path);
            long t1 = Stopwatch.GetTimestamp();
            EmbeddedBatch e = pipeline.Embed([image]);
            long t2 = Stopwatch.GetTimestamp();
            for (int s = 0; s < scorers.Length; s++)
            {
                // Orchestration: the calls PatchCoreDetector.Score makes after the embedding, each timed.
                long t3 = Stopwatch.GetTimestamp();
                float[] patches = scorers[s].PatchScores(e.Values);
                long t4 = Stopwatch.GetTimestamp();
                var detection = scorers[s].FromPatchScores([path], patches, e.Values, e.GridWidth, e.GridHeight, image.InputWidth, image.InputHeight)[0];
                long t5 = Stopwatch.GetTimestamp();
                if (i >= 0)
                    runs[s].Add(i, new StepTimes(Ms(t0, t1), Ms(t1, t2), Ms(t3, t4), Ms(t4, t5)), detection.Score, patches);
            }
        }
        return (runs[0], runs[1]);
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    /// <summary>Share of patches whose approximate distance equals the exact one (an IVF search never finds a nearer vector).</summary>
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

    private sealed record StepTimes(double Decode, double Embed, double Search, double Map)
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
    }
}
