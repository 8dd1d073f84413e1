using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using PatchCore.Core.Evaluation;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Core.Tests.Evaluation;

public sealed class EvaluationReportTests(ITestOutputHelper output) : IDisposable
{
    private const string Svg = "http://www.w3.org/2000/svg";

    // Set PATCHCORE_KEEP_REPORT=1 to keep the written page (and one SVG per chart) for a look.
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "patchcore-report-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("PATCHCORE_KEEP_REPORT") == "1")
            output.WriteLine($"report kept in {_dir}");
        else if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void WritesOneSelfContainedWellFormedPage()
    {
        var (scores, labels) = ImageMetricTests.RandomData(31, 120);
        float[] good = scores.Where((_, i) => !labels[i]).ToArray(), defect = scores.Where((_, i) => labels[i]).ToArray();
        var pixels = new PixelScoreAccumulator();
        var rng = new Random(4);
        for (int image = 0; image < 4; image++)
        {
            var mask = new byte[64 * 64];
            var map = new float[mask.Length];
            for (int i = 0; i < map.Length; i++)
            {
                mask[i] = (byte)(image > 0 && i % 64 > 20 && i % 64 < 30 && i / 64 > 10 && i / 64 < 20 ? 255 : 0);
                map[i] = (float)rng.NextDouble() + (mask[i] != 0 ? 0.7f : 0);
            }
            pixels.Add(map, mask, 64, $"image {image}");
        }
        var pixelSet = PixelMetrics.Compute(pixels);
        var f1 = F1Max.Compute(scores, labels);

        var report = new EvaluationReport
        {
            Category = "tiles & <co>",
            Metrics = [new("image AUROC", ImageAuroc.Compute(scores, labels)), new("pixel AUROC", pixelSet.Auroc),
                       new("AUPRO@0.3", pixelSet.Aupro), new("image F1-max", f1.F1), new("undefined one", double.NaN)],
            Counts = [new("good test images", good.Length), new("defect test images", defect.Length)],
            Settings = [new("backbone", "resnet18 <layer2+layer3>"), new("coreset", "0.1")],
            PhaseSeconds = [new("fit", 12.345), new("score", 3.2)],
            ImageRoc = ImageAuroc.Curve(scores, labels),
            PixelRoc = pixelSet.Roc,
            GoodImageScores = good,
            DefectImageScores = defect,
            ImageThreshold = f1.Threshold,
            WorstGoodImages = [new(Heatmap(1), "good/017.png <script>alert(1)</script>"), new(Heatmap(2), "good/003.png score 0.91")],
            BestDefectImages = [new(Heatmap(3), "crack/a&b.png score 2.5")],
        };
        string path = Path.Combine(_dir, "report.html");
        report.Write(path);

        string html = File.ReadAllText(path);
        output.WriteLine($"report: {html.Length:N0} characters");
        var doc = XDocument.Parse(html.Replace("<!DOCTYPE html>", ""), LoadOptions.None); // well-formed markup
        Assert.Equal("html", doc.Root!.Name.LocalName);
        string[] sections = doc.Descendants("section").Select(s => (string)s.Attribute("id")!).ToArray();
        Assert.Equal(["summary", "charts", "worst-good", "best-defects"], sections);
        Assert.Equal(3, doc.Descendants(XName.Get("svg", Svg)).Count()); // image ROC, pixel ROC, histogram
        Assert.Equal(3, doc.Descendants("img").Count(i => ((string)i.Attribute("src")!).StartsWith("data:image/png;base64,")));
        Assert.Contains("good/017.png <script>alert(1)</script>", doc.Descendants("figcaption").Select(f => f.Value));
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<co>", html);
        Assert.Contains("&lt;script&gt;", html);
        Assert.Contains("n/a", html);
        Assert.DoesNotContain("src=\"http", html); // nothing fetched from elsewhere
        // The embedded PNG decodes back to the same picture.
        string src = (string)doc.Descendants("img").First().Attribute("src")!;
        using var decoded = Image.Load<Rgb24>(Convert.FromBase64String(src["data:image/png;base64,".Length..]));
        Assert.Equal((48, 32), (decoded.Width, decoded.Height));
        // Curve points stay inside the plot.
        foreach (var polyline in doc.Descendants(XName.Get("polyline", Svg)))
            foreach (Match m in Regex.Matches((string)polyline.Attribute("points")!, @"(-?[\d.]+),(-?[\d.]+)"))
                Assert.InRange(double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 55.9, 424.1);

        if (Environment.GetEnvironmentVariable("PATCHCORE_KEEP_REPORT") == "1")
        {
            int n = 0;
            foreach (var svg in doc.Descendants(XName.Get("svg", Svg)))
                File.WriteAllText(Path.Combine(_dir, $"chart{n++}.svg"), svg.ToString(SaveOptions.DisableFormatting));
        }
    }

    [Fact]
    public void PageWithoutMasksOrImagesHasNoPixelCurveAndNoGallery()
    {
        var report = new EvaluationReport
        {
            Category = "bottle",
            ImageRoc = ImageAuroc.Curve([0.1f, 0.9f], [false, true]),
            GoodImageScores = [0.1f],
            DefectImageScores = [0.9f],
        };
        var doc = XDocument.Parse(report.ToHtml().Replace("<!DOCTYPE html>", ""));
        Assert.Equal(2, doc.Descendants(XName.Get("svg", Svg)).Count());
        Assert.Empty(doc.Descendants("img"));
        Assert.Empty(doc.Descendants("figure"));
    }

    [Fact]
    public void NonPngGalleryImageIsRejectedNamingItsCaption()
    {
        var report = new EvaluationReport { Category = "x", BestDefectImages = [new([1, 2, 3], "crack/007.png")] };
        var ex = Assert.Throws<PatchCoreException>(() => report.ToHtml());
        Assert.Contains("crack/007.png", ex.Message);
    }

    private static byte[] Heatmap(int seed)
    {
        using var image = new Image<Rgb24>(48, 32);
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
                image[x, y] = new Rgb24((byte)(x * 5 + seed * 40), (byte)(y * 7), (byte)(255 - x * 5));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}
