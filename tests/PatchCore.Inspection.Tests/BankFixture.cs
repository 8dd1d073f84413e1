using System.Globalization;
using PatchCore.Core;
using PatchCore.Core.Scoring;
using Xunit;

namespace PatchCore.Inspection.Tests;

/// <summary>
/// Two small real banks built once for the whole test project: A from 20 good bottle images, B from 10 others
/// (so its content id differs), both with coreset 0.1. Also scores the images the tests drop with both banks, so a
/// test knows which verdict each bank gives each one.
/// </summary>
public sealed class BankFixture : IDisposable
{
    public BankFixture()
    {
        Folder = Directory.CreateTempSubdirectory("patchcore-inspection-banks-").FullName;
        if (!TestData.Has("bottle"))
        {
            if (TestData.IsCi) TestData.Require("bottle");
            return;
        }
        string[] train = TestData.Images("bottle", Path.Combine("train", "good"));
        BankA = Path.Combine(Folder, "bank-a.bin");
        BankB = Path.Combine(Folder, "bank-b.bin");
        PatchCoreBankBuilder.Build(new BuildOptions(train.Take(20).ToArray(), BankA) { CoresetFraction = 0.1 });
        PatchCoreBankBuilder.Build(new BuildOptions(train.Skip(20).Take(10).ToArray(), BankB) { CoresetFraction = 0.1 });

        Good = TestData.Images("bottle", Path.Combine("test", "good")).Take(4).ToArray();
        Defects = TestData.Images("bottle", Path.Combine("test", "broken_large")).Take(4).ToArray();

        using var detector = PatchCoreDetector.Load(BankA);
        BankAId = detector.BankId;
        BankAVectorBytes = detector.Metadata.VectorCount * detector.Metadata.Dimension * sizeof(float);
        string[] all = [.. Good, .. Defects];
        var scores = new Dictionary<string, double>();
        foreach (var file in detector.ScoreFiles(all))
            using (file) scores[file.Path] = file.Score;
        Scores = scores;
        using (var b = PatchCoreDetector.Load(BankB))
        {
            BankBId = b.BankId;
            ThresholdsB = b.Thresholds;
            var scoresB = new Dictionary<string, double>();
            foreach (var file in b.ScoreFiles(all))
                using (file) scoresB[file.Path] = file.Score;
            ScoresB = scoresB;
        }

        if (detector.Thresholds.Ng is { } calibrated)
        {
            Thresholds = detector.Thresholds;
            Threshold = calibrated;
        }
        else
        {
            // An uncalibrated bank: the daemon is given a threshold between the good and the defect scores.
            double good = Good.Average(p => Scores[p]), bad = Defects.Average(p => Scores[p]);
            Threshold = (good + bad) / 2;
            Thresholds = new Thresholds { Ng = Threshold };
            ThresholdArgs = [$"--Inspection:Threshold={Threshold.ToString("R", CultureInfo.InvariantCulture)}"];
        }
    }

    public string Folder { get; }
    public string BankA { get; } = "";
    public string BankB { get; } = "";
    public string BankAId { get; } = "";
    public string BankBId { get; } = "";
    public string[] Good { get; } = [];
    public string[] Defects { get; } = [];
    public IReadOnlyDictionary<string, double> Scores { get; } = new Dictionary<string, double>();
    /// <summary>The same images scored with bank B.</summary>
    public IReadOnlyDictionary<string, double> ScoresB { get; } = new Dictionary<string, double>();
    /// <summary>Bank B's calibrated thresholds.</summary>
    public Thresholds ThresholdsB { get; } = new();
    /// <summary>Bank A's vectors in bytes (count x dimension x 4), to relate the daemon's memory to the bank's size.</summary>
    public long BankAVectorBytes { get; }
    public double Threshold { get; }
    /// <summary>Bank A's thresholds as the daemon applies them (ng, review, pixel).</summary>
    public Thresholds Thresholds { get; } = new();

    /// <summary>Empty when bank A carries a calibrated threshold; else the --Inspection:Threshold the daemon needs.</summary>
    public string[] ThresholdArgs { get; } = [];

    public string ExpectedVerdict(string image) => Verdicts.Name(Thresholds.VerdictOf(Scores[image])!.Value);

    /// <summary>The verdict bank B gives the image at its calibrated thresholds.</summary>
    public string ExpectedVerdictB(string image) => Verdicts.Name(ThresholdsB.VerdictOf(ScoresB[image])!.Value);

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); }
        catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class DaemonCollection : ICollectionFixture<BankFixture>
{
    public const string Name = "daemon";
}
