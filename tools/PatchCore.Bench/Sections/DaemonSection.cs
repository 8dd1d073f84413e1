using System.Diagnostics;
using System.Text;
using System.Text.Json;
using PatchCore.Core;

namespace PatchCore.Bench.Sections;

/// <summary>What one burst through the daemon measured. Times in milliseconds, memory in bytes.</summary>
internal sealed record BurstResult(int Images, double Seconds, double SustainedPerSecond, double P50Ms, double P95Ms, double MaxMs, long IdleRss, long SteadyRss,
    long MaxRss, long PeakRss, int Quarantined, string Load);

/// <summary>
/// 7. The daemon end to end: a bottle bank (from the training images), the real daemon (src/PatchCore.Inspection) in a
/// child process with default settings on temporary inbox and outbox folders, and a burst of copies of the test images
/// (the shared bottle: 256x256 PNGs) renamed into its inbox at once. Measures images per second from the first arrival to the last record,
/// the latency from each image's arrival (its rename) to its record appearing in results.jsonl (the journal is polled
/// every 20 ms, so that is the resolution), and the daemon's memory from /proc/PID/status sampled at the same times.
/// </summary>
internal sealed class DaemonSection : IBenchSection
{
    private const double GoalImagesPerSecond = 30;
    private const long GoalSteadyRss = 700L << 20;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    public string Name => "daemon";
    public string Title => "The daemon end to end: a burst of bottle images from inbox to journal";
    public bool NeedsData => true;

    public void Run(BenchContext context)
    {
        int images = context.Settings.Quick ? 100 : 500;
        string dir = Directory.CreateTempSubdirectory("pc-bench-daemon-").FullName;
        try
        {
            string bank = Path.Combine(dir, "bottle.pcbank");
            var train = context.TrainImages;
            Report.Progress($"daemon: building the bank from {train.Count} training images (calibrated on the library's hold-out)");
            PatchCoreBankBuilder.Build(new BuildOptions(train, bank)
            {
                Model = BenchSettings.Model(),
                CoresetFraction = BenchSettings.CoresetFraction,
                Seed = BenchSettings.Seed,
            });
            var sources = context.Category.Test.Select(t => t.ImagePath).ToArray();

            var rows = new List<string[]>();
            int variant = 0;
            foreach (var (label, environment, args) in Variants())
            {
                Report.Progress($"daemon: burst of {images} images ({label})");
                var r = Burst(Path.Combine(dir, $"burst{variant++}"), bank, sources, images, environment, args);
                rows.Add(
                [
                    label,
                    Report.F(r.Images / r.Seconds, 1),
                    Report.F(r.SustainedPerSecond, 1),
                    Report.F(r.P50Ms / 1000, 2),
                    Report.F(r.P95Ms / 1000, 2),
                    Report.F(r.MaxMs / 1000, 2),
                    Report.MiB(r.IdleRss),
                    Report.MiB(r.SteadyRss),
                    Report.MiB(r.MaxRss),
                    Report.MiB(r.PeakRss),
                    r.Quarantined.ToString(),
                    r.Load,
                ]);
            }
            Report.Table(["daemon (setting)", "images/s", "sustained images/s", "p50 s", "p95 s", "max s", "idle RSS MiB", "steady RSS MiB", "max RSS MiB", "peak RSS MiB", "quarantined", "load at end"], rows);
            Report.Line($"Goals: >= {GoalImagesPerSecond} images/s sustained, steady RSS <= {Report.MiB(GoalSteadyRss)} MiB, p95 latency printed.");
            Report.Line($"A burst of {images} copies of the {sources.Length} test images renamed into the inbox at once; default settings " +
                        "(settle 2000 ms, intake batch 16 within 32 MP, exact search); bank from " +
                        $"{train.Count} training images, {BenchSettings.Geometry}, coreset {BenchSettings.CoresetFraction}.");
            Report.Line("images/s: images / (last record - first arrival), the 2 s settle included; sustained: the records after the first poll that found any / (last record - that poll), " +
                        "the rate once records flow (the settle and the first batch's latency excluded, the daemon's warm-up included). Latency: arrival (rename) to the record read from results.jsonl " +
                        $"(polled every {Poll.TotalMilliseconds:F0} ms). Steady RSS: median VmRSS once a quarter of the burst was recorded; max RSS: the largest VmRSS " +
                        "sample in the burst; peak RSS: VmHWM at the end (bank loading included); idle: VmRSS before the burst.");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// The settings compared, each in a fresh daemon: a label, variables added to its environment and settings added to its
    /// command line. The befores: tiered compilation, intake batches of 8 and spinning thread-pool workers (the defaults
    /// until all three changed), together and each alone, and OpenBLAS's own idle spinning; then the allocator's settings.
    /// </summary>
    private static IEnumerable<(string Label, Dictionary<string, string> Environment, string[] Args)> Variants()
    {
        // The runtime reads DOTNET_ variables as hexadecimal: 46 is the thread pool's default spin limit, 70.
        var tiering = ("DOTNET_TieredCompilation", "1");
        var spinning = ("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit", "46");
        yield return ("defaults: intake batch 16, compiled once, idle workers block, arenas 2, large blocks kept, trim when drained, GC conserve 5", [], []);
        yield return ("before: tiered compilation, intake batch 8, idle workers spin", Env(tiering, spinning), ["--Inspection:MaxBatchSize=8"]);
        yield return ("defaults but tiered compilation (DOTNET_TieredCompilation=1)", Env(tiering), []);
        yield return ("defaults but intake batch 8 (MaxBatchSize=8)", [], ["--Inspection:MaxBatchSize=8"]);
        yield return ("defaults but idle thread-pool workers spin (DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=46)", Env(spinning), []);
        // Before: OpenBLAS's own default (2^28 cycles of sched_yield after every sgemm before an idle thread sleeps).
        yield return ("defaults but OpenBLAS idle threads spinning (OPENBLAS_THREAD_TIMEOUT=28)", Env(("OPENBLAS_THREAD_TIMEOUT", "28")), []);
        // What configs/patchcore-inspection.service adds (the runtime reads the gen0 budget from the environment only).
        yield return ("defaults + the unit's gen0 32 MiB", Env(("DOTNET_GCgen0size", "0x2000000")), []);
        // glibc's own number of arenas (8 per core, 16 here), freed memory kept for reuse; the runtime's GC. The
        // thresholds stay fixed: there is no environment that keeps glibc's own, moving ones (NativeHeap).
        yield return ("16 arenas, no trim, GC conserve 0", Env(("MALLOC_ARENA_MAX", "16"), ("DOTNET_GCConserveMemory", "0")), ["--Inspection:TrimNativeMemory=false"]);
    }

    private static Dictionary<string, string> Env(params (string Name, string Value)[] variables) =>
        variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);

    private static BurstResult Burst(string root, string bank, string[] sources, int count, Dictionary<string, string> environment, string[] args)
    {
        string inbox = Directory.CreateDirectory(Path.Combine(root, "inbox")).FullName;
        string drafts = Directory.CreateDirectory(Path.Combine(root, "drafts")).FullName;
        string outbox = Path.Combine(root, "outbox");
        string journal = Path.Combine(outbox, "results.jsonl");
        var names = new string[count];
        for (int i = 0; i < count; i++)
        {
            names[i] = $"burst{i:D4}.png";
            File.Copy(sources[i % sources.Length], Path.Combine(drafts, names[i]));
        }

        using var daemon = InspectionDaemon.Start([$"--Inspection:Inbox={inbox}", $"--Inspection:Bank={bank}", $"--Inspection:Outbox={outbox}", .. args], environment);
        daemon.WaitUntilWatching(TimeSpan.FromMinutes(3));
        Thread.Sleep(1000); // the start's allocations settle
        long idle = ProcessMemory.Of(daemon.Pid).Rss;

        var clock = Stopwatch.StartNew();
        var arrived = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            File.Move(Path.Combine(drafts, name), Path.Combine(inbox, name));
            arrived[name] = clock.Elapsed.TotalMilliseconds;
        }

        var recorded = new Dictionary<string, double>(StringComparer.Ordinal);
        var samples = new List<(int Done, long Rss)>();
        int quarantined = 0;
        long offset = 0;
        var deadline = TimeSpan.FromSeconds(120 + count);
        while (recorded.Count < count)
        {
            if (daemon.HasExited) throw new PatchCoreException($"The daemon exited after {recorded.Count} of {count} records:{Environment.NewLine}{daemon.LogTail}");
            if (clock.Elapsed > deadline) throw new PatchCoreException($"Only {recorded.Count} of {count} records after {deadline.TotalSeconds:F0} s:{Environment.NewLine}{daemon.LogTail}");
            double now = clock.Elapsed.TotalMilliseconds;
            foreach (var record in NewLines(journal, ref offset))
            {
                if (record.TryGetProperty("kind", out _)) continue; // a bank switch
                if (!recorded.TryAdd(record.GetProperty("originalName").GetString()!, now))
                    throw new PatchCoreException($"{record.GetProperty("originalName").GetString()} was recorded twice.");
                if (record.GetProperty("verdict").GetString() == "quarantined") quarantined++;
            }
            samples.Add((recorded.Count, ProcessMemory.Of(daemon.Pid).Rss));
            Thread.Sleep(Poll);
        }
        double first = arrived.Values.Min(), last = recorded.Values.Max(), firstRecord = recorded.Values.Min();
        int flowing = recorded.Values.Count(t => t > firstRecord);
        double sustained = last > firstRecord ? flowing / ((last - firstRecord) / 1000) : double.NaN;
        long peak = ProcessMemory.Of(daemon.Pid).Peak;
        string load = MachineInfo.LoadAverage();
        if (daemon.Stop(TimeSpan.FromSeconds(60)) is not 0)
            throw new PatchCoreException($"The daemon did not stop cleanly after the burst:{Environment.NewLine}{daemon.LogTail}");

        var latencies = names.Select(n => recorded[n] - arrived[n]).Order().ToArray();
        var steady = samples.Where(s => s.Done >= count / 4).Select(s => s.Rss).Order().ToArray();
        return new BurstResult(count, (last - first) / 1000, sustained, Percentile(latencies, 0.5), Percentile(latencies, 0.95), latencies[^1], idle,
            steady.Length > 0 ? steady[steady.Length / 2] : -1, samples.Max(s => s.Rss), peak, quarantined, load);
    }

    /// <summary>The complete lines appended to the journal since <paramref name="offset"/> (a half-written last line waits for the next poll).</summary>
    private static List<JsonElement> NewLines(string journal, ref long offset)
    {
        var lines = new List<JsonElement>();
        if (!File.Exists(journal)) return lines;
        using var stream = new FileStream(journal, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length <= offset) return lines;
        stream.Position = offset;
        var bytes = new byte[stream.Length - offset];
        stream.ReadExactly(bytes);
        int end = Array.LastIndexOf(bytes, (byte)'\n');
        if (end < 0) return lines;
        offset += end + 1;
        foreach (string line in Encoding.UTF8.GetString(bytes, 0, end).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var document = JsonDocument.Parse(line);
            lines.Add(document.RootElement.Clone());
        }
        return lines;
    }

    private static double Percentile(double[] sorted, double p) => sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(p * sorted.Length) - 1)];
}
