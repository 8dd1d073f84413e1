using System.Globalization;

namespace PatchCore.Core.Evaluation;

/// <summary>Turns an <see cref="EvaluationResult"/> into the HTML <see cref="EvaluationReport"/>.</summary>
public static class EvaluationReportWriter
{
    public static void Write(string path, EvaluationResult r)
    {
        var metrics = new List<KeyValuePair<string, double>>
        {
            new("image AUROC", r.ImageAuroc),
            new("image F1-max", r.ImageF1.F1),
        };
        if (r.PixelAuroc is double pa) metrics.Add(new("pixel AUROC", pa));
        if (r.Pro is double pro) metrics.Add(new("PRO (AUPRO @ FPR 0.3)", pro));
        if (r.PixelF1 is F1MaxResult pf) metrics.Add(new("pixel F1-max", pf.F1));
        var report = new EvaluationReport
        {
            Category = r.Category,
            Metrics = metrics,
            Counts =
            [
                new("training images", r.TrainImages),
                new("test images", r.TestImages),
                new("good test images", r.Images.Count(i => !i.IsAnomalous)),
                new("defect test images", r.Images.Count(i => i.IsAnomalous)),
                new("candidate patches", r.Candidates),
                new("bank vectors", r.BankVectors),
                new("embedding dimension", r.Dimension),
            ],
            Settings = r.Settings.ToArray(),
            Verdicts = Verdicts(r),
            PhaseSeconds =
            [
                new("features", r.Seconds.Features),
                new("coreset", r.Seconds.Coreset),
                new("index", r.Seconds.Index),
                new("score per image", r.Seconds.ScorePerImage),
            ],
            ImageRoc = r.ImageRoc,
            PixelRoc = r.PixelRoc,
            GoodImageScores = r.Images.Where(i => !i.IsAnomalous).Select(i => (float)i.Score).ToArray(),
            DefectImageScores = r.Images.Where(i => i.IsAnomalous).Select(i => (float)i.Score).ToArray(),
            ImageThreshold = double.IsNaN(r.ImageF1.F1) ? null : r.ImageF1.Threshold,
            WorstGoodImages = r.HighestGood,
            BestDefectImages = r.HighestDefect,
        };
        report.Write(path);
    }

    private static KeyValuePair<string, string>[] Verdicts(EvaluationResult r)
    {
        if (r.Thresholds is not { } t || r.GoodVerdicts is not { } good || r.DefectVerdicts is not { } defect) return [];
        static string F(double? v) => v is double d && !double.IsNaN(d) ? d.ToString("0.####", CultureInfo.InvariantCulture) : "none";
        static string Shares(VerdictCounts c) => string.Create(CultureInfo.InvariantCulture,
            $"ok {c.Share(c.Ok):P1}, review {c.Share(c.Review):P1}, ng {c.Share(c.Ng):P1} (of {c.Total})");
        var rows = new List<KeyValuePair<string, string>>
        {
            new("held-out good images", r.HeldOutImages.ToString(CultureInfo.InvariantCulture)),
            new("thresholds (ng / review / pixel)", $"{F(t.Ng)} / {F(t.Review)} / {F(t.Pixel)}"),
            new("good test images", Shares(good)),
            new("defect test images", Shares(defect)),
        };
        if (r.Regions is { } regions)
        {
            rows.Add(new("ground-truth regions hit", string.Create(CultureInfo.InvariantCulture, $"{regions.HitRegions} of {regions.GroundTruthRegions} ({F(regions.HitRate)})")));
            rows.Add(new("regions per good image", F(regions.FalseRegionsPerGoodImage)));
            rows.Add(new("regions on defect images off the ground truth", regions.RegionsOffGroundTruth.ToString(CultureInfo.InvariantCulture)));
        }
        return rows.ToArray();
    }
}
