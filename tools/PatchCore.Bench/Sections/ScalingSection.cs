using System.Diagnostics;
using System.Runtime.InteropServices;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Sampling;
using PatchCore.Core.Search;

namespace PatchCore.Bench.Sections;

/// <summary>
/// What a scaling child is asked to do: build one index over a bank and time searches. Search is "faiss" (Factory,
/// Lists = 0 meaning Flat), "projected" (exact) or "projected-ivf" (approximate).
/// </summary>
internal sealed record ScaleTask(long Vectors, int Dimension, string Search, string Factory, int Lists, int Probes, string? BankFile,
    int Warmups, int Repetitions, string TruthFile, bool WriteTruth);

/// <summary>What a scaling child measured.</summary>
internal sealed record ScaleResult(double TrainSeconds, double BuildSeconds, double SearchSeconds, int Runs,
    long RssBeforeBytes, long RssAfterBuildBytes, long PeakRssBytes, double? RecallAt1);

/// <summary>
/// 5. How the index scales with the bank: synthetic Gaussian-cluster banks of 16k, 100k and 1M vectors x 1024,
/// FAISS Flat, the exact projected search, FAISS IVF and the projected IVF, each built and searched in its own child process (build seconds, seconds per image = one
/// search of 784 queries with k = 1, memory). Where ten times the bank fits in the time, the bank is the coreset of
/// that many synthetic candidates (as a real bank is); else the synthetic vectors go straight into the index.
/// </summary>
internal sealed class ScalingSection : IBenchSection
{
    public const string ChildKind = "scale";
    private const int Dimension = 1024;
    private const int QueriesPerImage = 784; // a 224x224 image: 28 x 28 patches
    private const int BankStream = 0, QueryStream = 1, CandidateStream = 2;

    public string Name => "scaling";
    public string Title => "Scaling: synthetic banks x 1024, exact (FAISS Flat, projected) vs approximate (FAISS IVF, projected IVF)";
    public bool NeedsData => false;

    public void Run(BenchContext context)
    {
        bool quick = context.Settings.Quick;
        long[] sizes = quick ? [16_384, 100_000] : [16_384, 100_000, 1_000_000];
        // Coreset from 10x candidates only for the 16k bank: 1M candidates -> 100k would take many minutes
        // on 2 cores and 10M -> 1M far longer. --quick skips it too.
        long maxCandidates = quick ? 0 : 163_840;
        string temp = Directory.CreateTempSubdirectory("patchcore-bench-").FullName;
        var rows = new List<string[]>();
        try
        {
            foreach (long size in sizes)
            {
                var approx = ApproximateIndex.ForBankSize(size);
                // At 1M one exact search takes tens of seconds: 3 timed runs, no warm-up (the build has just touched every vector).
                bool huge = size >= 1_000_000;
                int runs = huge ? Math.Min(3, context.Settings.Repetitions) : context.Settings.Repetitions;
                int warmups = huge ? 0 : 1;
                string? bankFile = null;
                string source = "direct (no coreset)";
                string coresetSeconds = "-";
                if (size * 10 <= maxCandidates)
                {
                    bankFile = Path.Combine(temp, $"bank-{size}.f32");
                    coresetSeconds = Report.F(WriteCoresetBank(size, bankFile), 1);
                    source = $"coreset of {Report.N(size * 10)}";
                }
                string truth = Path.Combine(temp, $"exact-{size}.f32");
                var ivfOptions = ProjectedIvfOptions.Default;
                var tasks = new (string Label, ScaleTask Task)[]
                {
                    ("FAISS Flat", new ScaleTask(size, Dimension, "faiss", "Flat", 0, 0, bankFile, warmups, runs, truth, WriteTruth: true)),
                    ($"projected ({ProjectedSearchOptions.ExactDefault})", new ScaleTask(size, Dimension, "projected", "", 0, 0, bankFile, warmups, runs, truth, WriteTruth: false)),
                    ($"FAISS {approx.Label}", new ScaleTask(size, Dimension, "faiss", approx.Factory, approx.Lists, approx.Probes, bankFile, warmups, runs, truth, WriteTruth: false)),
                    ($"projected IVF{ivfOptions.ListsFor(size)} nprobe={ivfOptions.Probes}", new ScaleTask(size, Dimension, "projected-ivf", "", ivfOptions.ListsFor(size), ivfOptions.Probes, bankFile, warmups, runs, truth, WriteTruth: false)),
                };
                foreach (var (label, task) in tasks)
                {
                    bool first = task.WriteTruth;
                    Report.Progress($"child: {Report.N(size)} vectors, {label}, {runs} timed searches");
                    var r = ChildProcess.Run<ScaleTask, ScaleResult>(ChildKind, task);
                    long bankBytes = size * Dimension * sizeof(float);
                    rows.Add(
                    [
                        Report.N(size),
                        first ? source : "",
                        first ? coresetSeconds : "",
                        label,
                        Report.F(r.BuildSeconds, 2),
                        Report.F(r.SearchSeconds, 3),
                        r.RecallAt1 is double recall ? Report.F(recall, 4) : "1 (reference)",
                        Report.MiB(bankBytes),
                        Report.MiB(r.RssAfterBuildBytes - r.RssBeforeBytes),
                        Report.MiB(r.RssAfterBuildBytes),
                        Report.MiB(r.PeakRssBytes),
                    ]);
                }
                if (bankFile is not null) File.Delete(bankFile);
            }
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
        Report.Table(["bank", "bank source", "coreset s", "search", "build s", "search s/image", "recall@1", "bank MiB", "RSS growth in build MiB", "RSS MiB", "peak RSS MiB"], rows);
        Report.Line($"Synthetic rows: 512 Gaussian clusters in {Dimension}-D (centres N(0,1), spread 0.5); queries: {QueriesPerImage} fresh rows of the same mixture (one image's patches), k = 1.");
        Report.Line("build s = FAISS train + add, or the projected index's PCA fit + bank projection (+ k-means and lists), only: generating or reading the vectors is excluded;");
        Report.Line("FAISS IVF trains on 40 vectors per list (the first generated ones, or an even stride through a coreset bank); the projected IVF runs FAISS k-means on the projected bank.");
        Report.Line($"search s/image = median of {context.Settings.Repetitions} timed searches after one warm-up (at 1M: 3, no warm-up); recall@1 = share of queries whose distance equals FAISS Flat's.");
        Report.Line("The projected indexes hold the bank as one float32 array (so RSS growth includes the vectors) plus their projections: 64 + 256 floats per row for the exact one.");
        Report.Line("bank MiB = N x 1024 x 4 bytes; RSS growth = RSS after the build minus RSS before it, both after a full GC. The vectors are streamed in");
        Report.Line("blocks of 16,384 rows, never held whole in managed memory, so the growth is the index plus working buffers (a block of rows, torch's and");
        Report.Line("FAISS's allocations, IVF's training sample and list slack): compare it with the bank at 100k and 1M. RSS (after the build) and peak RSS (VmHWM) are the child's.");
        Report.Line("The clusters are well separated, so FAISS IVF recall here is close to an upper bound. Within a cluster the noise is isotropic in all 1024 dimensions,");
        Report.Line("the worst case for principal-component bounds (real patch embeddings keep ~85 % of their variance in 64 components): the exact projected search must");
        Report.Line("then compute many exact distances, and the projected IVF's shortlist ranks poorly. Recall and speed on real embeddings are in section 3.");
        if (quick)
            Report.Line("--quick: no 1M bank, 2 timed searches, every bank built directly from synthetic bank vectors (no coreset).");
        else
            Report.Line($"Banks above {Report.N(maxCandidates / 10)} vectors are built directly from synthetic bank vectors: a coreset from 10x candidates would not fit the run time.");
    }

    /// <summary>Coreset (fast, 10 %) of 10 x <paramref name="size"/> synthetic candidates, written as raw float32 rows; returns the coreset seconds.</summary>
    private static double WriteCoresetBank(long size, string path)
    {
        using var clusters = new GaussianClusters(Dimension);
        using var store = new CandidateStore(Dimension, BenchSettings.Coreset.ToStoreOptions());
        Report.Progress($"generating {Report.N(size * 10)} synthetic candidates");
        foreach (float[] block in clusters.Blocks(size * 10, CandidateStream))
            store.Append(block);
        Report.Progress($"coreset {Report.N(store.Count)} -> {Report.N(size)}");
        var sw = Stopwatch.StartNew();
        long[] selected = CoresetSampler.Select(store, BenchSettings.Coreset with { Count = (int)size }).Indices;
        double seconds = sw.Elapsed.TotalSeconds;
        using var file = File.Create(path);
        const int rowsPerWrite = GaussianClusters.BlockRows;
        for (int first = 0; first < selected.Length; first += rowsPerWrite)
        {
            float[] rows = store.ReadRows(selected.AsSpan(first, Math.Min(rowsPerWrite, selected.Length - first)).ToArray());
            file.Write(MemoryMarshal.AsBytes(rows.AsSpan()));
        }
        return seconds;
    }

    /// <summary>In the child process: one index over one bank.</summary>
    public static ScaleResult RunChild(ScaleTask task)
    {
        using var clusters = new GaussianClusters(task.Dimension);
        long rssBefore = ProcessMemory.RssAfterFullCollection();
        var (index, trainSeconds, buildSeconds) = task.Search == "faiss" ? BuildFaiss(task, clusters) : BuildProjected(task, clusters);
        using (index)
        {
            long rssAfterBuild = ProcessMemory.RssAfterFullCollection();
            float[] queries = clusters.Rows(QueriesPerImage, QueryStream);
            var distances = new float[QueriesPerImage];
            var labels = new long[QueriesPerImage];
            Report.Progress($"  searching: {task.Warmups} warm-up and {task.Repetitions} timed");
            double[] seconds = Samples.Time(task.Warmups, task.Repetitions, () => index.Search(queries, 1, distances, labels));

            double? recall = null;
            if (task.WriteTruth)
                File.WriteAllBytes(task.TruthFile, MemoryMarshal.AsBytes(distances.AsSpan()).ToArray());
            else if (File.Exists(task.TruthFile))
                recall = Recall(MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(task.TruthFile)), distances);
            return new ScaleResult(trainSeconds, buildSeconds, Samples.Median(seconds), seconds.Length, rssBefore, rssAfterBuild, ProcessMemory.PeakRssBytes, recall);
        }
    }

    private static (INearestNeighbourIndex Index, double TrainSeconds, double BuildSeconds) BuildFaiss(ScaleTask task, GaussianClusters clusters)
    {
        var index = FaissIndex.Create(task.Dimension, task.Factory);
        bool flat = task.Lists == 0;
        double trainSeconds = 0, buildSeconds = 0;
        if (!flat)
        {
            long trainRows = new ApproximateIndex(task.Factory, task.Lists, task.Probes).TrainingRows(task.Vectors);
            // Generated rows are i.i.d., so the first ones are a fair sample; a coreset file is in selection order: stride through it.
            long stride = task.BankFile is null ? 1 : Math.Max(1, task.Vectors / trainRows);
            float[] sample = Sample(BankBlocks(task, clusters), stride, trainRows, task.Dimension);
            Report.Progress($"  training {task.Factory} on {Report.N(trainRows)} vectors");
            trainSeconds = Timed(() => index.Train(sample));
            buildSeconds += trainSeconds;
        }
        Report.Progress($"  adding {Report.N(task.Vectors)} vectors to {task.Factory}");
        foreach (float[] block in BankBlocks(task, clusters))
            buildSeconds += Timed(() => index.Add(block));
        if (!flat) index.SetSearchParameter("nprobe", task.Probes);
        return (index, trainSeconds, buildSeconds);
    }

    private static (INearestNeighbourIndex Index, double TrainSeconds, double BuildSeconds) BuildProjected(ScaleTask task, GaussianClusters clusters)
    {
        // The projected indexes search one array of all rows (shared, not copied).
        var vectors = new float[task.Vectors * task.Dimension];
        long at = 0;
        int copied = 0;
        foreach (float[] block in BankBlocks(task, clusters))
        {
            block.CopyTo(vectors.AsSpan((int)at));
            at += block.Length;
            // The 64 MiB blocks are garbage once copied; collect them now and then so that the child's peak RSS is the
            // index's, not a pile of blocks waiting for a collection.
            if (++copied % 8 == 0) GC.Collect();
        }
        Report.Progress($"  fitting the {task.Search} index over {Report.N(task.Vectors)} vectors");
        if (task.Search == "projected")
        {
            var exact = ProjectedFlatIndex.Over(vectors, task.Dimension);
            double seconds = Timed(exact.Prepare);
            return (exact, seconds, seconds);
        }
        var ivf = ProjectedIvfIndex.Over(vectors, task.Dimension, ProjectedIvfOptions.Default with { Lists = task.Lists, Probes = task.Probes });
        double ivfSeconds = Timed(ivf.Prepare);
        return (ivf, ivfSeconds, ivfSeconds);
    }

    /// <summary>The bank's rows block by block: read from the coreset file, or generated.</summary>
    private static IEnumerable<float[]> BankBlocks(ScaleTask task, GaussianClusters clusters)
    {
        if (task.BankFile is null)
        {
            foreach (float[] block in clusters.Blocks(task.Vectors, BankStream))
                yield return block;
            yield break;
        }
        using var file = File.OpenRead(task.BankFile);
        long expected = task.Vectors * task.Dimension * sizeof(float);
        if (file.Length != expected)
            throw new PatchCore.Core.PatchCoreException($"{task.BankFile}: {file.Length} bytes, expected {expected} ({task.Vectors} x {task.Dimension} float32).");
        for (long row = 0; row < task.Vectors; row += GaussianClusters.BlockRows)
        {
            var block = new float[Math.Min(GaussianClusters.BlockRows, task.Vectors - row) * task.Dimension];
            file.ReadExactly(MemoryMarshal.AsBytes(block.AsSpan()));
            yield return block;
        }
    }

    /// <summary>Every <paramref name="stride"/>-th row of the stream, <paramref name="wanted"/> rows in all.</summary>
    private static float[] Sample(IEnumerable<float[]> blocks, long stride, long wanted, int dimension)
    {
        var sample = new float[wanted * dimension];
        long row = 0, taken = 0;
        foreach (float[] block in blocks)
        {
            int rows = block.Length / dimension;
            for (int r = 0; r < rows && taken < wanted; r++, row++)
            {
                if (row % stride != 0) continue;
                block.AsSpan(r * dimension, dimension).CopyTo(sample.AsSpan((int)(taken * dimension)));
                taken++;
            }
            if (taken == wanted) break;
        }
        return sample;
    }

    /// <summary>Share of queries whose approximate squared distance equals the exact one (up to float rounding).</summary>
    private static double Recall(ReadOnlySpan<float> exact, ReadOnlySpan<float> approx)
    {
        int same = 0;
        for (int i = 0; i < exact.Length; i++)
            if (approx[i] <= exact[i] * (1 + 1e-5f) + 1e-6f) same++;
        return (double)same / exact.Length;
    }

    private static double Timed(Action action)
    {
        long t0 = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }
}
