using System.Security.Cryptography;
using PatchCore.Core.Devices;
using PatchCore.Core.Embedding;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Sampling;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Core.Tests.Updating;

/// <summary>
/// <see cref="PatchCoreBankUpdater"/> on the 20 sample bottles: a bank from 10 updated with the other 10 keeps its
/// vectors and adds covering ones, the stop rule holds against brute force, a count adds exactly that many, the old
/// bank is never touched, the lineage is recorded, the thresholds are recalibrated on good images, missing held-out
/// images keep their scores, and every refusal names the bank or file and the problem.
/// </summary>
[Collection("sample update")]
public sealed class BankUpdaterTests(SampleUpdateFixture f, ITestOutputHelper output)
{
    [Fact]
    public void TheNewBankHoldsTheOldVectorsFirstThenTheAddedOnes()
    {
        var old = MemoryBankFile.Read(f.OldBank);
        var updated = MemoryBankFile.Read(f.NewBank);
        var s = f.Update;
        output.WriteLine($"{s.Candidates} new patches, {s.VectorsAdded} added by {s.Rule}: {s.VectorsBefore} -> {s.VectorsAfter}");
        Assert.Equal(9, s.BankImages);
        Assert.Equal(1, s.HeldOutImages);
        Assert.Equal(9 * 28 * 28, s.Candidates);
        Assert.InRange(s.VectorsAdded, 1, s.Candidates - 1);
        Assert.Equal(old.Metadata.VectorCount + s.VectorsAdded, updated.Metadata.VectorCount);
        Assert.True(updated.Vectors.AsSpan(0, old.Vectors.Length).SequenceEqual(old.Vectors), "the old vectors are not the new bank's first rows");
        Assert.Equal(old.Metadata.CandidateCount + s.Candidates, updated.Metadata.CandidateCount);
        Assert.Equal([.. old.Metadata.TrainingImages, .. f.Second.Where(p => Path.GetFileName(p) != "150.png").Select(p => Path.GetFileName(p))], updated.Metadata.TrainingImages);
        Assert.Equal(s.BankId, updated.Checksum);
        // the detector searches it like any bank: its own index holds every vector
        using var detector = PatchCoreDetector.Load(f.NewBank, new DetectorOptions { Search = PatchCore.Core.Search.SearchBackend.Faiss });
        Assert.Equal(updated.Metadata.VectorCount, detector.Index.Count);
    }

    [Fact]
    public void AfterTheUpdateNoNewPatchIsFartherThanTheCoverageRadius()
    {
        var old = MemoryBankFile.Read(f.OldBank);
        var updated = MemoryBankFile.Read(f.NewBank);
        var m = updated.Metadata;
        double radius = old.Metadata.Coreset.CoverageRadius!.Value;
        Assert.Equal(radius, m.Coreset.CoverageRadius);
        Assert.True(f.Update.LargestRemaining <= radius);

        // the new bank images' patches in the bank's projection, as the update saw them
        var (bankImages, _) = new UpdateOptions(f.OldBank, f.Second, null).SplitHoldOut();
        using var pipeline = new FeaturePipeline(ModelOptions.OfBank(m, null, DeviceKind.Auto, null, null, ImageDecoder.DefaultMaxPixels, null));
        using var store = new CandidateStore(m.Dimension, new CandidateStoreOptions { ProjectionDim = m.Coreset.ProjectionDimension, Seed = m.Coreset.Seed });
        PatchCoreBankBuilder.AppendFeatures(store, pipeline, bankImages, m.Roi, null, CancellationToken.None);
        int p = store.ProjectionDim;
        var y = new float[store.Count * p];
        store.ReadProjected(0, y);
        float[] oldRows = store.Project(old.Vectors), newRows = store.Project(updated.Vectors);

        float before = Nearest(y, p, oldRows).Max();
        float after = Nearest(y, p, newRows).Max();
        // The bank stores float16-rounded vectors: each added vector's projection lies this close to the new patch it was chosen as.
        float rounding = Nearest(newRows[oldRows.Length..], p, y).Max();
        output.WriteLine($"radius {radius:F4}: farthest new patch from the old bank {before:F4}, from the new bank {after:F4} (float16 rounding of the added vectors: {rounding:F5})");
        Assert.True(before > radius, "the new images were already covered: the test would prove nothing");
        Assert.True(rounding < 0.02 * radius);
        Assert.True(after <= radius + rounding, $"a new patch lies {after} from the updated bank, beyond the radius {radius} (+{rounding} rounding)");
    }

    [Fact]
    public void ACountOrAShareAddsExactlyThatManyAndTheOldBankIsNeverModified()
    {
        string dir = f.NewFolder("count");
        var byCount = PatchCoreBankUpdater.Update(new UpdateOptions(f.OldBank, f.Second, Path.Combine(dir, "count.pcbank")) { CoresetCount = 37 });
        Assert.Equal(37, byCount.VectorsAdded);
        Assert.Equal("count 37", byCount.Rule);
        Assert.Equal(byCount.VectorsBefore + 37, MemoryBankFile.Read(byCount.BankPath).Metadata.VectorCount);

        var byShare = PatchCoreBankUpdater.Update(new UpdateOptions(f.OldBank, f.Second, Path.Combine(dir, "share.pcbank")) { CoresetFraction = 0.01 });
        Assert.Equal((long)Math.Floor(byShare.Candidates * 0.01), byShare.VectorsAdded);

        Assert.Equal(f.OldBytes, File.ReadAllBytes(f.OldBank));
        Assert.Empty(Directory.GetFiles(f.Directory, "*.tmp-*", SearchOption.AllDirectories));
    }

    [Fact]
    public void TheLineageNamesTheParentAndWhatWasAddedAndChainsAcrossUpdates()
    {
        var updated = MemoryBankFile.Read(f.NewBank).Metadata;
        var update = Assert.Single(updated.Updates);
        Assert.Equal(f.Build.BankId, update.ParentId);
        Assert.Equal(f.Build.BankId, updated.ParentId);
        Assert.Equal("old.pcbank", update.ParentFile);
        Assert.InRange(update.UpdatedUtc, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow);
        Assert.Equal(f.Second.Select(Path.GetFileName).Order(), update.Added.Select(a => a.Name).Order());
        foreach (var added in update.Added)
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f.Second.Single(p => Path.GetFileName(p) == added.Name)))), added.Sha256);
        Assert.Equal(["150.png"], update.Added.Where(a => a.HeldOut).Select(a => a.Name));
        Assert.Equal(f.Update.VectorsAdded, update.VectorsAdded);
        Assert.Contains("coverage radius", update.Rule);
        Assert.Null(MemoryBankFile.Read(f.OldBank).Metadata.ParentId);

        string third = Path.Combine(f.NewFolder("chain"), "third.pcbank");
        var again = PatchCoreBankUpdater.Update(new UpdateOptions(f.NewBank, f.First[..2], third) { CoresetCount = 5 });
        var chained = MemoryBankFile.Read(third).Metadata;
        Assert.Equal(2, chained.Updates.Count);
        Assert.Equal(update.ParentId, chained.Updates[0].ParentId);
        Assert.Equal(update.Added, chained.Updates[0].Added);
        Assert.Equal(f.Update.BankId, chained.Updates[1].ParentId);
        Assert.Equal(again.ParentId, chained.ParentId);
    }

    [Fact]
    public void TheThresholdsAreRecalibratedOnTheOldAndNewHeldOutImagesAgainstTheNewBank()
    {
        var oc = MemoryBankFile.Read(f.OldBank).Metadata.Calibration;
        var c = MemoryBankFile.Read(f.NewBank).Metadata.Calibration;
        Assert.Equal(3, oc.HeldOutImages.Count);
        Assert.Equal([.. oc.HeldOutImages, "150.png"], c.HeldOutImages);
        Assert.Equal([.. oc.HeldOutPaths!, f.Second.Single(p => p.EndsWith("150.png", StringComparison.Ordinal))], c.HeldOutPaths!);
        Assert.Empty(c.CarriedOver);
        for (int i = 0; i < 3; i++)
        {
            output.WriteLine($"{c.HeldOutImages[i]}: {oc.HeldOutScores[i]:F4} against the old bank, {c.HeldOutScores[i]:F4} against the new one");
            Assert.True(c.HeldOutScores[i] <= oc.HeldOutScores[i] * (1 + 1e-5), "a larger bank raised a held-out score");
        }
        // each score is what the new bank gives that image through the detector's one scoring path
        using (var detector = PatchCoreDetector.Load(f.NewBank))
        {
            var scored = detector.ScoreFiles(c.HeldOutPaths!.Select(p => p!).ToArray()).Select(s => { using (s) return s.Score; }).ToArray();
            for (int i = 0; i < scored.Length; i++) Assert.Equal(c.HeldOutScores[i], scored[i], c.HeldOutScores[i] * 1e-5);
        }
        Assert.Equal(new ThresholdRule().Apply(c.HeldOutScores), c.Threshold!.Value, 9);
        Assert.Equal(c.HeldOutScores.Max(), c.ReviewThreshold!.Value, 9);
        Assert.NotEqual(oc.Threshold, c.Threshold);
        Assert.Equal(oc.Threshold, f.Update.OldThresholds.Ng);
        Assert.Equal(c.Threshold, f.Update.NewThresholds.Ng);
        Assert.Equal(c.PixelThreshold, f.Update.NewThresholds.Pixel);
        Assert.Equal(4, f.Update.HeldOutScored);
        output.WriteLine($"ng {oc.Threshold:F4} -> {c.Threshold:F4}, review {oc.ReviewThreshold:F4} -> {c.ReviewThreshold:F4}, pixel {oc.PixelThreshold:F4} -> {c.PixelThreshold:F4}");
    }

    [Fact]
    public void HeldOutImagesThatAreGoneOrChangedKeepTheirOldScoresAndAreNamed()
    {
        string dir = f.NewFolder("carried");
        var train = f.First.Select(p => { string t = Path.Combine(dir, Path.GetFileName(p)); File.Copy(p, t); return t; }).ToArray();
        string bank = Path.Combine(dir, "bank.pcbank");
        PatchCoreBankBuilder.Build(new BuildOptions(train, bank));
        var oc = MemoryBankFile.Read(bank).Metadata.Calibration;
        File.Delete(oc.HeldOutPaths![0]!);
        File.Copy(train.First(t => !oc.HeldOutPaths.Contains(t)), oc.HeldOutPaths[1]!, overwrite: true);

        var s = PatchCoreBankUpdater.Update(new UpdateOptions(bank, f.Second, Path.Combine(dir, "updated.pcbank")) { CoresetCount = 20 });
        foreach (string line in s.CarriedOver) output.WriteLine(line);
        Assert.Equal(2, s.CarriedOver.Count);
        Assert.StartsWith($"{oc.HeldOutImages[0]}: missing at {oc.HeldOutPaths[0]}", s.CarriedOver[0]);
        Assert.StartsWith($"{oc.HeldOutImages[1]}: changed since it was held out", s.CarriedOver[1]);
        Assert.Equal(2, s.HeldOutScored);
        var c = MemoryBankFile.Read(s.BankPath).Metadata.Calibration;
        Assert.Equal(oc.HeldOutScores[0], c.HeldOutScores[0]);
        Assert.Equal(oc.HeldOutScores[1], c.HeldOutScores[1]);
        Assert.Equal(s.CarriedOver, c.CarriedOver);
        Assert.Contains("carried scores have no map", c.PixelRule);
    }

    [Fact]
    public void EveryRefusalNamesTheBankOrFileAndTheProblemAndWritesNothing()
    {
        string dir = f.NewFolder("refusals");
        string outPath = Path.Combine(dir, "out.pcbank");
        var content = MemoryBankFile.Read(f.OldBank);
        UpdateOptions Options(string? bank = null) => new(bank ?? f.OldBank, f.Second, outPath);

        void Refused(UpdateOptions options, string mentions, string problem)
        {
            var ex = Assert.ThrowsAny<PatchCoreException>(() => PatchCoreBankUpdater.Update(options));
            output.WriteLine(ex.Message);
            Assert.Contains(mentions, ex.Message);
            Assert.Contains(problem, ex.Message);
            Assert.False(File.Exists(outPath));
        }

        Refused(Options() with { Backbone = "resnet50" }, f.OldBank, "backbone resnet18, not resnet50");
        string otherWeights = Path.Combine(dir, "other.pth");
        File.WriteAllBytes(otherWeights, [1, 2, 3]);
        Refused(Options() with { WeightsPath = otherWeights }, otherWeights, "is not the weights file the bank was built with");
        string checkpointBank = Path.Combine(dir, "checkpoint.pcbank");
        MemoryBankFile.Write(checkpointBank, content.Metadata with { WeightsId = new string('0', 64), WeightsDescription = "someone's checkpoint" }, content.Vectors, content.IndexBytes);
        Refused(Options(checkpointBank), checkpointBank, "pass the bank's --weights file");
        Refused(Options() with { Geometry = ImageGeometry.Parse("256x256", "224") }, f.OldBank, "resize 256, crop 224, not resize 256x256, crop 224");
        Refused(Options() with { Embedding = new EmbeddingOptions { Mode = EmbeddingMode.Concat } }, f.OldBank, "embedding is Paper");
        string mask = Path.Combine(dir, "roi.png");
        using (var image = new Image<L8>(16, 16, new L8(255))) image.SaveAsPng(mask);
        Refused(Options() with { Roi = RegionOfInterest.Load(mask) }, f.OldBank, "the bank inspects whole images");
        Refused(Options() with { Seed = 5 }, f.OldBank, "seed 0, not 5");

        Refused(new UpdateOptions(f.OldBank, [], outPath), "--add", "No images to add");
        string garbage = Path.Combine(dir, "garbage.png");
        File.WriteAllText(garbage, "not an image");
        Refused(new UpdateOptions(f.OldBank, [garbage], outPath), garbage, "");

        string corrupt = Path.Combine(dir, "corrupt.pcbank");
        byte[] bytes = File.ReadAllBytes(f.OldBank);
        bytes[^100] ^= 0x40;
        File.WriteAllBytes(corrupt, bytes);
        Refused(Options(corrupt), corrupt, "checksum mismatch");

        Refused(new UpdateOptions(f.OldBank, f.Second, f.OldBank), f.OldBank, "the output is the bank being updated");

        string noRadius = Path.Combine(dir, "no-radius.pcbank");
        MemoryBankFile.Write(noRadius, content.Metadata with { Coreset = content.Metadata.Coreset with { CoverageRadius = null } }, content.Vectors, content.IndexBytes);
        Refused(Options(noRadius), noRadius, "give --coreset COUNT or FRACTION");

        Assert.Equal(f.OldBytes, File.ReadAllBytes(f.OldBank));
    }

    [Fact]
    public void WithoutAnOutputTheNextVersionIsWrittenAndMadeCurrent()
    {
        string dir = f.NewFolder("versions");
        string plain = Path.Combine(dir, "bottle.pcbank");
        File.Copy(f.OldBank, plain);
        var s = PatchCoreBankUpdater.Update(new UpdateOptions(plain, f.Second, null) { CoresetCount = 10 });
        Assert.Equal(2, s.Version);
        Assert.Equal(Path.Combine(dir, "bottle.v2.pcbank"), s.BankPath);
        Assert.Equal(f.OldBytes, File.ReadAllBytes(Path.Combine(dir, "bottle.v1.pcbank"))); // the plain bank started the series as v1, byte for byte
        Assert.Equal("bottle.v2.pcbank\n", File.ReadAllText(Path.Combine(dir, "bottle.current")));
        Assert.Equal(s.BankPath, BankVersions.Resolve(Path.Combine(dir, "bottle.current")));

        var next = PatchCoreBankUpdater.Update(new UpdateOptions(Path.Combine(dir, "bottle.current"), f.First[..2], null) { CoresetCount = 5 });
        Assert.Equal(3, next.Version);
        Assert.Equal(s.BankId, next.ParentId);
        using var detector = PatchCoreDetector.Load(Path.Combine(dir, "bottle.current"));
        Assert.Equal(next.BankId, detector.BankId);
        Assert.Equal([1, 2, 3], BankVersions.Versions(dir + "/bottle"));
    }

    /// <summary>Brute force: for every row of <paramref name="y"/> [n, P], the distance to its nearest row of <paramref name="centres"/>.</summary>
    private static float[] Nearest(float[] y, int dim, float[] centres) => GreedyStart.NearestDistancesBruteForce(y, y.Length / dim, dim, centres);
}
