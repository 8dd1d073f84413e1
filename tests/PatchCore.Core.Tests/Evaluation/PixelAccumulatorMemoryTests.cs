using System.Diagnostics;
using PatchCore.Core.Evaluation;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Core.Tests.Evaluation;

public class PixelAccumulatorMemoryTests(ITestOutputHelper output)
{
    /// <summary>
    /// ~20M synthetic pixels (PATCHCORE_EVAL_PIXELS overrides, in millions) in 1000x1000 images, half with a
    /// square defect. Logs memory and phase times; asserts only a generous bound on memory growth.
    /// </summary>
    [Fact]
    public void TwentyMillionPixelsStayWithinAFewHundredMegabytes()
    {
        int millions = int.TryParse(Environment.GetEnvironmentVariable("PATCHCORE_EVAL_PIXELS"), out int m) && m > 0 ? m : 20;
        const int side = 1000;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        long workingBefore = Process.GetCurrentProcess().WorkingSet64;

        var rng = new Random(7);
        var scores = new float[side * side];
        var mask = new byte[side * side];
        var pixels = new PixelScoreAccumulator();
        var clock = Stopwatch.StartNew();
        for (int image = 0; image < millions; image++)
        {
            Array.Clear(mask);
            if (image % 2 == 1)
                for (int y = 300; y < 400; y++)
                    mask.AsSpan(y * side + 300, 100 + image).Fill(255);
            for (int i = 0; i < scores.Length; i++)
                scores[i] = (float)rng.NextDouble() + (mask[i] != 0 ? 0.4f : 0f);
            pixels.Add(scores, mask, side, $"synthetic {image}");
        }
        double addSeconds = clock.Elapsed.TotalSeconds;
        long managedFilled = GC.GetTotalMemory(forceFullCollection: true);

        var self = Process.GetCurrentProcess();
        TimeSpan cpuBefore = self.TotalProcessorTime;
        clock.Restart();
        var set = PixelMetrics.Compute(pixels);
        double metricSeconds = clock.Elapsed.TotalSeconds;
        self.Refresh();
        double metricCpuSeconds = (self.TotalProcessorTime - cpuBefore).TotalSeconds;
        clock.Restart();
        double auroc = PixelAuroc.Compute(pixels);
        double aurocSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        double aupro = Aupro.Compute(pixels);
        double auproSeconds = clock.Elapsed.TotalSeconds;
        long managedAfter = GC.GetTotalMemory(forceFullCollection: false);
        var process = Process.GetCurrentProcess();
        process.Refresh();
        long workingAfter = process.WorkingSet64;
        long peakWorking = process.PeakWorkingSet64;

        output.WriteLine($"pixels {pixels.PixelCount:N0}, regions {pixels.RegionCount}, storage {pixels.StorageBytes / 1e6:F0} MB");
        output.WriteLine($"add {addSeconds:F2} s; sort+sweep (AUROC, AUPRO, F1, ROC) {metricSeconds:F2} s wall, {metricCpuSeconds:F2} s CPU");
        output.WriteLine($"then, chunks already sorted: PixelAuroc.Compute {aurocSeconds:F2} s, Aupro.Compute {auproSeconds:F2} s");
        output.WriteLine($"managed heap: before {managedBefore / 1e6:F0} MB, filled {managedFilled / 1e6:F0} MB, after metrics {managedAfter / 1e6:F0} MB");
        output.WriteLine($"working set: before {workingBefore / 1e6:F0} MB, after {workingAfter / 1e6:F0} MB, peak {peakWorking / 1e6:F0} MB");
        output.WriteLine($"pixel AUROC {set.Auroc:F6}, AUPRO@0.3 {set.Aupro:F6}, F1-max {set.F1.F1:F6} at {set.F1.Threshold:G6}, ROC points {set.Roc.Count}");

        Assert.Equal(millions * 1_000_000L, pixels.PixelCount);
        Assert.Equal(millions / 2, pixels.RegionCount);
        Assert.InRange(set.Auroc, 0.5, 1.0);
        Assert.Equal(set.Auroc, auroc);
        Assert.Equal(set.Aupro, aupro);
        Assert.InRange(set.Roc.Count, 2, 2002);
        Assert.True(managedFilled - managedBefore < 600_000_000, $"managed growth {(managedFilled - managedBefore) / 1e6:F0} MB");
        Assert.True(workingAfter - workingBefore < 600_000_000, $"working-set growth {(workingAfter - workingBefore) / 1e6:F0} MB");
        GC.KeepAlive(pixels);
    }
}
