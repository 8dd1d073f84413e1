using System.Globalization;
using System.Net;
using System.Text;

namespace PatchCore.Core.Evaluation;

/// <summary>
/// Small inline SVG charts for <see cref="EvaluationReport"/>. Written by hand on purpose: ScottPlot 5.1.59 (the
/// plotting library served here) needs SkiaSharp 3.119, while TorchSharp and TorchVision 0.107.0 pull SkiaSharp
/// 2.88.6; taking ScottPlot into this library would lift the SkiaSharp under TorchSharp to a new major version and
/// add HarfBuzz natives, for two line charts and a histogram. Inline SVG also keeps the report one file, vector,
/// and free of any font or native dependency at write time.
/// </summary>
internal static class SvgChart
{
    private const int Width = 440, Height = 360;
    private const int Left = 56, Right = 16, Top = 34, Bottom = 48;
    private const int PlotWidth = Width - Left - Right, PlotHeight = Height - Top - Bottom;

    /// <summary>A ROC curve on the unit square with the chance diagonal.</summary>
    public static string Roc(RocCurve curve, string title)
    {
        var svg = Begin(title);
        Axes(svg, 0, 1, 0, 1, "False positive rate", "True positive rate");
        svg.Append($"<line x1=\"{Left}\" y1=\"{Top + PlotHeight}\" x2=\"{Left + PlotWidth}\" y2=\"{Top}\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>");
        if (curve.Count == 0)
        {
            svg.Append($"<text x=\"{Left + PlotWidth / 2}\" y=\"{Top + PlotHeight / 2}\" text-anchor=\"middle\">undefined (one class only)</text>");
        }
        else
        {
            svg.Append("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
            for (int i = 0; i < curve.Count; i++)
                svg.Append(F(X(curve.FalsePositiveRates[i], 0, 1))).Append(',').Append(F(Y(curve.TruePositiveRates[i], 0, 1))).Append(' ');
            svg.Append("\"/>");
        }
        return End(svg);
    }

    /// <summary>Overlaid histograms of good and defect image scores on shared bins, with an optional threshold line.</summary>
    public static string Histogram(IReadOnlyList<float> good, IReadOnlyList<float> defect, float? threshold, string title, int bins = 30)
    {
        var svg = Begin(title);
        var all = good.Concat(defect).Where(float.IsFinite).ToArray();
        if (all.Length == 0)
        {
            Axes(svg, 0, 1, 0, 1, "Image score", "Images");
            return End(svg);
        }
        double min = all.Min(), max = all.Max();
        if (max <= min)
            max = min + 1;
        int[] goodCounts = Count(good, min, max, bins), defectCounts = Count(defect, min, max, bins);
        // Round the count axis up to a multiple of its 5 tick intervals, so the ticks are whole numbers.
        int top = 5 * (int)Math.Ceiling(Math.Max(1, Math.Max(goodCounts.Max(), defectCounts.Max())) / 5.0);
        Axes(svg, min, max, 0, top, "Image score", "Images");
        Bars(svg, goodCounts, min, max, top, "#2ca02c");
        Bars(svg, defectCounts, min, max, top, "#d62728");
        if (threshold is float t && float.IsFinite(t) && t >= min && t <= max)
            svg.Append($"<line x1=\"{F(X(t, min, max))}\" y1=\"{Top}\" x2=\"{F(X(t, min, max))}\" y2=\"{Top + PlotHeight}\" stroke=\"#000\" stroke-dasharray=\"5 3\"/>");
        Legend(svg, ("good (" + good.Count + ")", "#2ca02c"), ("defect (" + defect.Count + ")", "#d62728"));
        return End(svg);
    }

    private static int[] Count(IReadOnlyList<float> values, double min, double max, int bins)
    {
        var counts = new int[bins];
        foreach (float v in values)
            if (float.IsFinite(v))
                counts[Math.Clamp((int)((v - min) / (max - min) * bins), 0, bins - 1)]++;
        return counts;
    }

    private static void Bars(StringBuilder svg, int[] counts, double min, double max, int top, string colour)
    {
        double width = (double)PlotWidth / counts.Length;
        for (int b = 0; b < counts.Length; b++)
        {
            if (counts[b] == 0)
                continue;
            double y = Y(counts[b], 0, top);
            svg.Append($"<rect x=\"{F(Left + b * width)}\" y=\"{F(y)}\" width=\"{F(width)}\" height=\"{F(Top + PlotHeight - y)}\" fill=\"{colour}\" fill-opacity=\"0.5\" stroke=\"{colour}\"/>");
        }
    }

    private static void Legend(StringBuilder svg, params (string Label, string Colour)[] items)
    {
        for (int i = 0; i < items.Length; i++)
        {
            int y = Top + 8 + i * 18;
            svg.Append($"<rect x=\"{Left + PlotWidth - 120}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{items[i].Colour}\" fill-opacity=\"0.5\" stroke=\"{items[i].Colour}\"/>");
            svg.Append($"<text x=\"{Left + PlotWidth - 102}\" y=\"{y + 10}\" font-size=\"12\">{Escape(items[i].Label)}</text>");
        }
    }

    private static StringBuilder Begin(string title) =>
        new StringBuilder()
            .Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">")
            .Append($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"#fff\"/>")
            .Append($"<text x=\"{Width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{Escape(title)}</text>");

    private static string End(StringBuilder svg) => svg.Append("</svg>").ToString();

    private static void Axes(StringBuilder svg, double xMin, double xMax, double yMin, double yMax, string xLabel, string yLabel)
    {
        svg.Append($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{PlotWidth}\" height=\"{PlotHeight}\" fill=\"none\" stroke=\"#333\"/>");
        for (int i = 0; i <= 5; i++)
        {
            double fx = xMin + (xMax - xMin) * i / 5, fy = yMin + (yMax - yMin) * i / 5;
            string x = F(X(fx, xMin, xMax)), y = F(Y(fy, yMin, yMax));
            svg.Append($"<line x1=\"{x}\" y1=\"{Top}\" x2=\"{x}\" y2=\"{Top + PlotHeight}\" stroke=\"#eee\"/>");
            svg.Append($"<line x1=\"{Left}\" y1=\"{y}\" x2=\"{Left + PlotWidth}\" y2=\"{y}\" stroke=\"#eee\"/>");
            svg.Append($"<text x=\"{x}\" y=\"{Top + PlotHeight + 16}\" text-anchor=\"middle\">{Tick(fx)}</text>");
            svg.Append($"<text x=\"{Left - 6}\" y=\"{F(Y(fy, yMin, yMax) + 4)}\" text-anchor=\"end\">{Tick(fy)}</text>");
        }
        svg.Append($"<text x=\"{Left + PlotWidth / 2}\" y=\"{Height - 10}\" text-anchor=\"middle\">{Escape(xLabel)}</text>");
        svg.Append($"<text transform=\"translate(16 {Top + PlotHeight / 2}) rotate(-90)\" text-anchor=\"middle\">{Escape(yLabel)}</text>");
    }

    private static double X(double v, double min, double max) => Left + (v - min) / (max - min) * PlotWidth;

    private static double Y(double v, double min, double max) => Top + PlotHeight - (v - min) / (max - min) * PlotHeight;

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Tick(double v) => v.ToString(Math.Abs(v) >= 100 ? "0" : "0.###", CultureInfo.InvariantCulture);

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
