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

        var exact = ScoreAll(pipeline, "Flat", null, bank, test);
        var fast = ScoreAll(pipeline, approx.Factory, approx, bank, test);
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
        Report.Line($"Medians over images; total = decode + backbone+embed + search + map of each image; images/s = images / sum of totals (one image at a time).");
        Report.Line($"AUROC difference approximate - exact = {difference:+0.0000;-0.0000;0.0000} ({verdict} the tolerance of {AurocTolerance}).");
        Report.Line($"Patch nearest neighbours: {PatchAgreement(exact.PatchScores, fast.PatchScores):P2} of {Report.N(exact.PatchScores.Length)} patches get the exact distance from {approx.Factory}; largest image-score change {MaxChange(exact.ImageScores, fast.ImageScores):P3}.");
        if (context.Settings.Quick) Report.Line($"--quick: every {context.Settings.TestStride}th test image and a bank from every {context.Settings.TrainStride}th training image.");
    }

    private static ScoringRun ScoreAll(FeaturePipeline pipeline, string factory, ApproximateIndex? approx, float[] bank, IReadOnlyList<MvtecTestItem> test)
    {
        Report.Progress($"scoring {test.Count} images with {factory}");
        using var index = FaissIndex.Create(pipeline.Dimension, factory);
        index.Add(bank);
        approx?.ApplySearchParameters(index);
        // One search call per image: a 224x224 image has 784 patches, far below any chunk limit.
        var scorer = new AnomalyScorer(index, bank, new ScoringOptions(), queryChunkRows: 1 << 16);
        ScoreOne(pipeline, scorer, test[0].ImagePath); // warm-up, not recorded

        var steps = new List<StepTimes>();
        var imageScores = new float[test.Count];
        var patchScores = new List<float>();
        for (int i = 0; i < test.Count; i++)
        {
            var (times, score, patches) = ScoreOne(pipeline, scorer, test[i].ImagePath);
            steps.Add(times);
            imageScores[i] = (float)score;
            patchScores.AddRange(patches);
        }
        return new ScoringRun(steps, imageScores, patchScores.ToArray());
    }

    // Orchestration: the calls PatchCoreDetector.Score makes for one image, each timed.
    private static (StepTimes Times, double Score, float[] Patches) ScoreOne(FeaturePipeline pipeline, AnomalyScorer scorer, string path)
    {
        long t0 = Stopwatch.GetTimestamp();
        using var image = pipeline.Decoder.Decode(path);
        long t1 = Stopwatch.GetTimestamp();
        EmbeddedBatch e = pipeline.Embed([image]);
        long t2 = Stopwatch.GetTimestamp();
        float[] patches = scorer.PatchScores(e.Values);
        long t3 = Stopwatch.GetTimestamp();
        var detection = scorer.FromPatchScores([path], patches, e.Values, e.GridWidth, e.GridHeight, image.InputWidth, image.InputHeight)[0];
        long t4 = Stopwatch.GetTimestamp();
        var times = new StepTimes(Ms(t0, t1), Ms(t1, t2), Ms(t2, t3), Ms(t3, t4));
        return (times, detection.Score, patches);
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

    private sealed record ScoringRun(IReadOnlyList<StepTimes> Steps, float[] ImageScores, float[] PatchScores)
    {
        public double Median(Func<StepTimes, double> step) => Samples.Median(Steps.Select(step).ToArray());
        public double ImagesPerSecond => Steps.Count / (Steps.Sum(s => s.Total) / 1000);
    }
}
