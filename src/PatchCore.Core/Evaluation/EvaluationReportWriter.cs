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
}
