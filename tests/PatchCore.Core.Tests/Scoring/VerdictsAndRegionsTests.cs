using PatchCore.Core.Imaging;
using PatchCore.Core.Scoring;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Core.Tests.Scoring;

/// <summary>
/// Calibrated thresholds, verdicts, regions, masks, overlays and the region of interest on the repository's sample
/// bottles (real images, no shared data): banks built once, defects pasted at known places.
/// </summary>
public sealed class VerdictsAndRegionsTests(SampleBanksFixture banks, ITestOutputHelper output) : IClassFixture<SampleBanksFixture>
{
    [Fact]
    public void TheBankCarriesThresholdsCalibratedOnItsHeldOutGoodImagesOnly()
    {
        using var detector = PatchCoreDetector.Load(banks.Plain);
        var c = detector.Metadata.Calibration;
        output.WriteLine($"held out {c.HeldOutImages.Count}: ng {c.Threshold:0.###} ({c.Rule}), review {c.ReviewThreshold:0.###} ({c.ReviewRule}), pixel {c.PixelThreshold:0.###} ({c.PixelRule}), median pixel {c.PixelMedian:0.###}");
        Assert.Equal(3, c.HeldOutImages.Count);
        Assert.Equal(c.HeldOutScores.Max(), c.ReviewThreshold!.Value, 9);
        Assert.True(c.ReviewThreshold < c.Threshold);
        Assert.True(c.PixelMedian < c.PixelThreshold && c.PixelThreshold < c.PixelMax * 1.05 + 1e-6);

        // The same rule over the held-out maps the detector gives now: the 0.999 quantile of all their pixels x 1.05.
        var paths = c.HeldOutImages.Select(name => banks.Train.Single(p => Path.GetFileName(p) == name)).ToArray();
        var pixels = detector.ScoreAll(paths).SelectMany(d => d.Map.Values).Order().ToArray();
        Assert.Equal(QuantileRule.QuantileOf<float>(pixels, 0.999) * 1.05, c.PixelThreshold!.Value, c.PixelThreshold.Value * 1e-4);
        Assert.Equal(new Thresholds { Ng = c.Threshold, Review = c.ReviewThreshold, Pixel = c.PixelThreshold }, detector.Thresholds);
    }

    [Fact]
    public void APastedDefectGetsARegionWhereItIsAMaskAndABoxedOverlay()
    {
        string pasted = banks.Paste(banks.Good, "outside", x: 150, y: 110);
        using var detector = PatchCoreDetector.Load(banks.Plain, new DetectorOptions { Regions = new RegionOptions { MmPerPixel = 0.5 } });
        var files = detector.ScoreFiles([banks.Good, pasted], keepOriginals: true).ToArray();
        try
        {
            var (clean, defect) = (files[0], files[1]);
            output.WriteLine($"clean {clean.Score:0.###} {clean.Verdict} {clean.Regions!.Count} regions; pasted {defect.Score:0.###} {defect.Verdict} {defect.Regions!.Count} regions: {string.Join("; ", defect.Regions)}");
            Assert.Equal(Verdict.Ng, defect.Verdict);
            var region = defect.Regions[0];
            // the block covers original x 150..189, y 110..149: the highest region holds it
            Assert.InRange(region.PeakX, 150 - 16, 190 + 16);
            Assert.InRange(region.PeakY, 110 - 16, 150 + 16);
            Assert.True(region.X <= 160 && region.X + region.Width >= 180 && region.Y <= 120 && region.Y + region.Height >= 140, $"box {region}");
            Assert.Equal(region.Area * 0.25, region.AreaMm2!.Value, 6);
            Assert.True(clean.Regions.Count < defect.Regions.Count || clean.Regions.Sum(r => r.Area) < region.Area);

            string mask = Path.Combine(banks.Dir, "pasted_mask.png"), heat = Path.Combine(banks.Dir, "pasted_heatmap.png");
            detector.WriteDefectMask(defect, mask);
            detector.WriteHeatmap(defect, heat);
            using (var m = Image.Load<L8>(mask))
            {
                Assert.Equal((256, 256), (m.Width, m.Height));
                Assert.Equal(255, m[170, 130].PackedValue);   // inside the pasted block
                Assert.Equal(0, m[20, 20].PackedValue);       // a corner far from it
                Assert.Equal(0, m[2, 128].PackedValue);       // outside the 224 crop: the model never saw it
            }
            using var overlay = Image.Load<Rgb24>(heat);
            Assert.Equal((256, 256), (overlay.Width, overlay.Height));
            // the box: two white pixels just outside the region's left edge, then a black one
            Assert.Equal(new Rgb24(255, 255, 255), overlay[region.X - 1, region.PeakY]);
            Assert.Equal(new Rgb24(255, 255, 255), overlay[region.X - 2, region.PeakY]);
            Assert.Equal(new Rgb24(0, 0, 0), overlay[region.X - 3, region.PeakY]);
        }
        finally
        {
            foreach (var f in files) f.Dispose();
        }
    }

    [Fact]
    public void OneColourScalePerBankKeepsAGoodPartCalm()
    {
        string pasted = banks.Paste(banks.Good, "scale", x: 150, y: 110);
        using var detector = PatchCoreDetector.Load(banks.Plain);
        var files = detector.ScoreFiles([banks.Good, pasted], keepOriginals: true).ToArray();
        try
        {
            // Pixels the overlay turned red (hot): few on the good bottle, many on the pasted one.
            int Hot(ScoredFile f)
            {
                using var overlay = Image.Load<Rgb24>(detector.HeatmapPng(f));
                int hot = 0;
                for (int y = 16; y < 240; y++)
                    for (int x = 16; x < 240; x++)
                        if (overlay[x, y].R > 160 && overlay[x, y].G < 100 && overlay[x, y].B < 100) hot++;
                return hot;
            }
            int good = Hot(files[0]), defect = Hot(files[1]);
            output.WriteLine($"hot pixels: good {good}, pasted {defect}");
            Assert.True(defect > 400, $"the pasted defect should glow: {defect} hot pixels");
            Assert.True(good * 10 < defect, $"the good part should stay calm: {good} hot pixels against {defect}");
        }
        finally
        {
            foreach (var f in files) f.Dispose();
        }
    }

    [Fact]
    public void ADefectInsideTheIgnoredAreaChangesNothingAndOutsideItFlipsTheVerdict()
    {
        using var plain = PatchCoreDetector.Load(banks.Plain);
        using var masked = PatchCoreDetector.Load(banks.Masked);
        // ignored patches never entered the bank
        Assert.True(masked.Metadata.CandidateCount < plain.Metadata.CandidateCount, $"{masked.Metadata.CandidateCount} vs {plain.Metadata.CandidateCount}");
        Assert.NotNull(masked.Metadata.Roi);

        string inside = banks.Paste(banks.Good, "inside", x: 20, y: 110), outside = banks.Paste(banks.Good, "outside-roi", x: 150, y: 110);
        var results = masked.ScoreFiles([banks.Good, inside, outside], keepOriginals: true).ToArray();
        try
        {
            var (clean, hidden, seen) = (results[0], results[1], results[2]);
            output.WriteLine($"masked bank: clean {clean.Score:0.###} {clean.Verdict}, inside the ignored area {hidden.Score:0.###} {hidden.Verdict}, outside {seen.Score:0.###} {seen.Verdict}; plain bank on the inside paste: {plain.ScoreAll([inside])[0].Score:0.###}");
            Assert.Equal(clean.Verdict, hidden.Verdict);
            Assert.NotEqual(Verdict.Ng, clean.Verdict);
            Assert.Equal(Verdict.Ng, seen.Verdict);
            // the plain bank sees the same inside paste as a defect
            Assert.Equal(Verdict.Ng, plain.Thresholds.VerdictOf(plain.ScoreAll([inside])[0].Score));
            // no region reaches into the ignored left part (original x < 100), and the map is zero there
            Assert.All(hidden.Regions!, r => Assert.True(r.X >= 96, $"region at x {r.X}"));
            var map = hidden.Detection!.Map;
            Assert.Equal(0f, map.Values[110 * map.Width + 30]);
            using var overlay = Image.Load<Rgb24>(masked.HeatmapPng(hidden));
            var p = overlay[40, 60];
            Assert.True(p.R == p.G && p.G == p.B, $"the ignored area is drawn grey, got {p}");
        }
        finally
        {
            foreach (var r in results) r.Dispose();
        }
    }
}

/// <summary>Two banks from the 20 sample training bottles: one plain, one ignoring the left 100 of 256 columns.</summary>
public sealed class SampleBanksFixture : IDisposable
{
    public SampleBanksFixture()
    {
        Dir = Directory.CreateTempSubdirectory("pc-verdicts-").FullName;
        Train = Directory.GetFiles(Path.Combine(TestData.RepoRoot, "samples", "bottle", "train", "good"), "*.png").Order(StringComparer.Ordinal).ToArray();
        Good = Path.Combine(TestData.RepoRoot, "samples", "bottle", "test", "good_000.png");
        Plain = Path.Combine(Dir, "plain.pcbank");
        Masked = Path.Combine(Dir, "masked.pcbank");
        PatchCoreBankBuilder.Build(new BuildOptions(Train, Plain));
        string roi = Path.Combine(Dir, "roi.png");
        using (var mask = new Image<L8>(256, 256, new L8(255)))
        {
            for (int y = 0; y < 256; y++) for (int x = 0; x < 100; x++) mask[x, y] = new L8(0);
            mask.SaveAsPng(roi);
        }
        PatchCoreBankBuilder.Build(new BuildOptions(Train, Masked) { Roi = RegionOfInterest.Load(roi) });
    }

    public string Dir { get; }
    public string[] Train { get; }
    public string Good { get; }
    public string Plain { get; }
    public string Masked { get; }

    /// <summary>A copy of <paramref name="source"/> with a 40x40 red-and-white checkerboard at (x, y).</summary>
    public string Paste(string source, string name, int x, int y)
    {
        string path = Path.Combine(Dir, name + ".png");
        using var image = Image.Load<Rgb24>(source);
        for (int dy = 0; dy < 40; dy++)
            for (int dx = 0; dx < 40; dx++)
                image[x + dx, y + dy] = ((dx / 5 + dy / 5) % 2 == 0) ? new Rgb24(250, 30, 30) : new Rgb24(245, 245, 245);
        image.SaveAsPng(path);
        return path;
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
