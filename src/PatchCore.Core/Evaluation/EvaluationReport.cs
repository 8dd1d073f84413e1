using System.Globalization;
using System.Net;
using System.Text;

namespace PatchCore.Core.Evaluation;

/// <summary>
/// One self-contained HTML page for an evaluated category: a summary table (metrics, counts, settings, seconds per
/// phase), the image ROC curve, the pixel ROC curve when there are masks, a histogram of image scores for good vs
/// defect images, and galleries of heatmap overlays (worst-scored good images, best-scored defect images).
/// Charts are inline SVG and images base64 data URIs, so the file needs nothing beside it. Every caller-supplied
/// text (names, values, captions, paths) is HTML-escaped, and the markup is also well-formed XML (void elements
/// self-closed), so it can be checked with an XML parser.
/// </summary>
internal sealed class EvaluationReport
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The category's name (page title).</summary>
    public required string Category { get; init; }

    /// <summary>Named figures, e.g. "image AUROC"; NaN is written "n/a".</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Metrics { get; init; } = [];

    /// <summary>Named counts, e.g. "test images".</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Counts { get; init; } = [];

    /// <summary>Settings as key/value pairs (backbone, layers, coreset ratio, ...).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Settings { get; init; } = [];

    /// <summary>What the station would do at the calibrated thresholds: thresholds, verdict shares, region figures (empty without calibration).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Verdicts { get; init; } = [];

    /// <summary>Wall-clock seconds per phase (fit, score, metrics, ...).</summary>
    public IReadOnlyList<KeyValuePair<string, double>> PhaseSeconds { get; init; } = [];

    /// <summary>The image-level ROC curve (from <see cref="ImageAuroc.Curve"/>).</summary>
    public RocCurve? ImageRoc { get; init; }

    /// <summary>The pixel-level ROC curve (from <see cref="PixelAuroc.Curve"/> or <see cref="PixelMetricSet.Roc"/>); null without masks.</summary>
    public RocCurve? PixelRoc { get; init; }

    /// <summary>Image scores of the good test images.</summary>
    public IReadOnlyList<float> GoodImageScores { get; init; } = [];

    /// <summary>Image scores of the defect test images.</summary>
    public IReadOnlyList<float> DefectImageScores { get; init; } = [];

    /// <summary>An optional decision threshold drawn on the histogram (e.g. the image F1-max threshold).</summary>
    public float? ImageThreshold { get; init; }

    /// <summary>Heatmap overlays of the highest-scored good images (false-alarm candidates).</summary>
    public IReadOnlyList<ReportImage> WorstGoodImages { get; init; } = [];

    /// <summary>Heatmap overlays of the highest-scored defect images.</summary>
    public IReadOnlyList<ReportImage> BestDefectImages { get; init; } = [];

    /// <summary>Writes the page to <paramref name="path"/> (UTF-8), creating its folder.</summary>
    /// <exception cref="PatchCoreException">A gallery image is not a PNG, or the file cannot be written.</exception>
    public void Write(string path)
    {
        string html = ToHtml();
        string full = Path.GetFullPath(path);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, html, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PatchCoreException($"{full}: cannot write the evaluation report: {e.Message}", e);
        }
    }

    /// <summary>The page as a string.</summary>
    public string ToHtml()
    {
        var html = new StringBuilder();
        string title = $"PatchCore evaluation: {Category}";
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
            .Append("<title>").Append(E(title)).Append("</title>\n")
            .Append("<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:0 24px 16px 0;vertical-align:top;display:inline-table}")
            .Append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}")
            .Append(".charts svg{margin:0 16px 16px 0}figure{display:inline-block;margin:0 12px 12px 0;max-width:260px;vertical-align:top}")
            .Append("figure img{max-width:256px;display:block}figcaption{font-size:12px;word-break:break-all}</style>\n</head>\n<body>\n")
            .Append("<h1>").Append(E(title)).Append("</h1>\n");

        html.Append("<section id=\"summary\">\n<h2>Summary</h2>\n");
        Table(html, "Metrics", Metrics.Select(m => (m.Key, double.IsNaN(m.Value) ? "n/a" : m.Value.ToString("F4", CultureInfo.InvariantCulture))), numeric: true);
        Table(html, "Counts", Counts.Select(c => (c.Key, c.Value.ToString(CultureInfo.InvariantCulture))), numeric: true);
        Table(html, "Seconds per phase", PhaseSeconds.Select(p => (p.Key, p.Value.ToString("F2", CultureInfo.InvariantCulture))), numeric: true);
        Table(html, "Settings", Settings.Select(s => (s.Key, s.Value)), numeric: false);
        if (Verdicts.Count > 0)
            Table(html, "At the calibrated thresholds", Verdicts.Select(v => (v.Key, v.Value)), numeric: true);
        html.Append("</section>\n");

        html.Append("<section id=\"charts\" class=\"charts\">\n<h2>Curves and scores</h2>\n");
        if (ImageRoc is not null)
            html.Append(SvgChart.Roc(ImageRoc, "Image ROC")).Append('\n');
        if (PixelRoc is not null)
            html.Append(SvgChart.Roc(PixelRoc, "Pixel ROC")).Append('\n');
        html.Append(SvgChart.Histogram(GoodImageScores, DefectImageScores, ImageThreshold, "Image scores")).Append('\n');
        html.Append("</section>\n");

        Gallery(html, "worst-good", "Highest-scored good images", WorstGoodImages);
        Gallery(html, "best-defects", "Highest-scored defect images", BestDefectImages);
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static void Table(StringBuilder html, string caption, IEnumerable<(string Key, string Value)> rows, bool numeric)
    {
        var list = rows.ToList();
        if (list.Count == 0)
            return;
        html.Append("<table><caption>").Append(E(caption)).Append("</caption>\n");
        foreach (var (key, value) in list)
            html.Append("<tr><th>").Append(E(key)).Append(numeric ? "</th><td class=\"n\">" : "</th><td>").Append(E(value)).Append("</td></tr>\n");
        html.Append("</table>\n");
    }

    private static void Gallery(StringBuilder html, string id, string heading, IReadOnlyList<ReportImage> images)
    {
        if (images.Count == 0)
            return;
        html.Append("<section id=\"").Append(id).Append("\">\n<h2>").Append(E(heading)).Append("</h2>\n");
        foreach (var image in images)
        {
            if (image.Png.Length < PngSignature.Length || !image.Png.AsSpan(0, PngSignature.Length).SequenceEqual(PngSignature))
                throw new PatchCoreException($"Report image '{image.Caption}': {image.Png.Length} bytes that are not a PNG (no PNG signature).");
            html.Append("<figure><img alt=\"").Append(E(image.Caption)).Append("\" src=\"data:image/png;base64,")
                .Append(Convert.ToBase64String(image.Png)).Append("\"/><figcaption>").Append(E(image.Caption)).Append("</figcaption></figure>\n");
        }
        html.Append("</section>\n");
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
