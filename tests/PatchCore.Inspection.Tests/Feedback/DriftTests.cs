using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Feedback;

/// <summary>
/// Drift on real images: good test images as they are leave the drift figure inside the calibration's spread; the same
/// images brighter (a lighting change) push it past the warning, in health.json and the log.
/// <para>
/// The shift is additive (+120 on every channel, clamped): it lifts the bottle's black background, as stray light
/// would. A multiplicative brightness (x1.25) hardly moves ResNet18 PatchCore scores on these images (medians within
/// 0.1), nor does +30; +90 moves the median about half the calibration's spread, +120 about 1.5 spreads with 1 of 10
/// images going ng (measured while writing this test).
/// </para>
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class DriftTests(BankFixture bank, ITestOutputHelper output)
{
    private const int Window = 10;
    private const int Brighter = 120;

    [DataFact("bottle")]
    public async Task BrighterGoodImagesRaiseTheDriftWarningAndUnshiftedOnesDoNot()
    {
        using var folders = new DaemonFolders(bank.BankA);
        string[] good = TestData.Images("bottle", Path.Combine("test", "good")).Take(Window).ToArray();
        string shifted = Directory.CreateDirectory(Path.Combine(folders.Root, "brighter")).FullName;
        foreach (var image in good)
        {
            using var pixels = Image.Load<Rgb24>(image);
            pixels.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < rows.Height; y++)
                    foreach (ref var p in rows.GetRowSpan(y))
                        p = new Rgb24(Lift(p.R), Lift(p.G), Lift(p.B));
            });
            pixels.SaveAsPng(Path.Combine(shifted, Path.GetFileName(image)));
        }
        string[] args = folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=200", $"--Inspection:Drift:Window={Window}",
            $"--Inspection:Drift:MinSamples={Window / 2}"]);

        await using (await InProcessDaemon.StartAsync(args, output))
        {
            for (int i = 0; i < good.Length; i++) folders.Drop(good[i], $"plain-{i}.png");
            var plain = Drift(await FeedbackWaits.ForHealth(folders, h => h.GetProperty("processed").GetInt64() == Window && Drift(h).GetProperty("samples").GetInt32() == Window,
                "the unshifted images in the drift window"));
            output.WriteLine($"FIGURE drift, unshifted good images: {plain}; verdicts {Verdicts(folders, "plain-")}");
            Assert.False(plain.GetProperty("warning").GetBoolean(), $"unshifted good images warn of drift: {plain}");

            for (int i = 0; i < good.Length; i++) folders.Drop(Path.Combine(shifted, Path.GetFileName(good[i])), $"brighter-{i}.png");
            await FeedbackWaits.ForRecord(folders, $"brighter-{good.Length - 1}.png");
            var brighter = Drift(await FeedbackWaits.ForHealth(folders, h => h.GetProperty("processed").GetInt64() == 2 * Window, "the brighter images"));
            await Task.Delay(600); // the drift is taken right after the batch's records: one more health refresh
            brighter = Drift(folders.Health());
            output.WriteLine($"FIGURE drift, the same images +{Brighter} brighter: {brighter}; verdicts {Verdicts(folders, "brighter-")}");
            Assert.True(brighter.GetProperty("warning").GetBoolean(), $"brighter images raise no drift warning: {brighter}");
            Assert.True(brighter.GetProperty("figure").GetDouble() > plain.GetProperty("figure").GetDouble());

            // The same figure in the gauge patchcore.drift (what /metrics exports), tagged with the product.
            var gauge = new List<(double Value, string? Product)>();
            using (var listener = new MeterListener())
            {
                listener.InstrumentPublished = (instrument, l) =>
                {
                    if (instrument.Name == "patchcore.drift") l.EnableMeasurementEvents(instrument);
                };
                listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
                {
                    string? product = null;
                    foreach (var tag in tags) if (tag.Key == "product") product = tag.Value as string;
                    lock (gauge) gauge.Add((value, product));
                });
                listener.Start();
                listener.RecordObservableInstruments();
            }
            Assert.Contains(gauge, g => g.Product == "default" && Math.Abs(g.Value - brighter.GetProperty("figure").GetDouble()) < 1e-9);
        }
    }

    private static byte Lift(byte value) => (byte)Math.Min(255, value + Brighter);

    private static JsonElement Drift(JsonElement health) =>
        health.GetProperty("products").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "default").GetProperty("drift");

    private static string Verdicts(DaemonFolders folders, string prefix) => string.Join(", ", folders.Records()
        .Where(r => r.GetProperty("originalName").GetString()!.StartsWith(prefix, StringComparison.Ordinal))
        .Select(r => $"{r.GetProperty("verdict").GetString()} {r.GetProperty("score").GetDouble().ToString("F2", CultureInfo.InvariantCulture)}"));
}
