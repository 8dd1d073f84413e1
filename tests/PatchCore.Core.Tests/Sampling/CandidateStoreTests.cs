using PatchCore.Core.Sampling;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Core.Tests.Sampling;

public class CandidateStoreTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(CandidateRowStorage.Memory, false)]
    [InlineData(CandidateRowStorage.Memory, true)]
    [InlineData(CandidateRowStorage.TempFile, false)]
    public void RowsRoundTripThroughFloat16WithinOneThousandthRelative(CandidateRowStorage rowStorage, bool spill)
    {
        const int dim = 96, n = 2500;
        var rows = SyntheticEmbeddings.Blobs(n, dim, clusters: 5, spread: 3f, noise: 0.5f, seed: 11);
        rows[5] = 60000f;  // near the float16 limit
        rows[6] = -1e-6f;  // float16 subnormal
        string spillDir = Directory.CreateTempSubdirectory("coreset-spill-").FullName;
        try
        {
            // ChunkRows 700: rows straddle several chunks; budget 0 puts every chunk in a mapped file.
            var storage = new CandidateStoreOptions { ChunkRows = 700, MemoryBudgetBytes = spill ? 0 : null, SpillDirectory = spillDir, RowStorage = rowStorage };
            using (var store = SyntheticEmbeddings.Store(rows, dim, new CoresetOptions(), batchRows: 333, storage))
            {
                bool file = rowStorage == CandidateRowStorage.TempFile;
                Assert.Equal(n, store.Count);
                Assert.Equal(dim, store.Dimension);
                Assert.Equal(rowStorage, store.RowStorage);
                Assert.Equal(spill, store.MappedBytes > 0);
                Assert.Equal(spill || file, store.InMemoryBytes == 0);
                Assert.Equal(file ? 2L * n * dim : 0, store.FileBytes);
                Assert.Equal(spill ? 4 : file ? 1 : 0, Directory.GetFiles(spillDir).Length);

                var row = new float[dim];
                for (long i = 0; i < n; i += 7)
                {
                    store.ReadRow(i, row);
                    AssertClose(rows.AsSpan((int)i * dim, dim), row);
                }
                long[] picked = [n - 1, 0, 699, 700, 1234, 0];
                var many = store.ReadRows(picked);
                for (int r = 0; r < picked.Length; r++)
                    AssertClose(rows.AsSpan((int)picked[r] * dim, dim), many.AsSpan(r * dim, dim));
            }
            Assert.Empty(Directory.GetFiles(spillDir)); // mapped chunk files and the row file go with the store
        }
        finally
        {
            Directory.Delete(spillDir, recursive: true);
        }
    }

    [Fact]
    public void TempFileRowsAreTheSameFloat16RowsAsInMemoryAndTheCoresetIsUnchanged()
    {
        const int dim = 64, n = 1800;
        var rows = SyntheticEmbeddings.Blobs(n, dim, clusters: 6, spread: 2f, noise: 0.5f, seed: 21);
        var options = new CoresetOptions(Count: 90, ProjectionDim: 16, Seed: 3);
        string spillDir = Directory.CreateTempSubdirectory("coreset-file-").FullName;
        try
        {
            using var memory = SyntheticEmbeddings.Store(rows, dim, options, batchRows: 250, new CandidateStoreOptions { ChunkRows = 500 });
            using var file = SyntheticEmbeddings.Store(rows, dim, options, batchRows: 250,
                new CandidateStoreOptions { ChunkRows = 500, RowStorage = CandidateRowStorage.TempFile, SpillDirectory = spillDir });

            var all = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
            Assert.Equal(memory.ReadRows(all), file.ReadRows(all));
            var halvesMemory = new Half[700 * dim];
            var halvesFile = new Half[700 * dim];
            memory.ReadHalfRows(450, halvesMemory);
            file.ReadHalfRows(450, halvesFile);
            Assert.Equal(halvesMemory, halvesFile);

            var projectedMemory = new float[n * 16];
            var projectedFile = new float[n * 16];
            memory.ReadProjected(0, projectedMemory);
            file.ReadProjected(0, projectedFile);
            Assert.Equal(projectedMemory, projectedFile);

            var selected = CoresetSampler.Select(memory, options).Indices;
            Assert.Equal(selected, CoresetSampler.Select(file, options).Indices);
            Assert.Equal(CoresetSampler.CoverageRadius(memory, selected), CoresetSampler.CoverageRadius(file, selected));
            Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadHalfRows(n - 1, new Half[2 * dim]));
        }
        finally
        {
            Directory.Delete(spillDir, recursive: true);
        }
    }

    [Fact]
    public void TempFileIsDeletedWhenTheStoreIsDisposedAfterAFailedAppend()
    {
        const int dim = 8;
        string spillDir = Directory.CreateTempSubdirectory("coreset-file-").FullName;
        try
        {
            var storage = new CandidateStoreOptions { RowStorage = CandidateRowStorage.TempFile, SpillDirectory = spillDir };
            var bad = new float[4 * dim];
            bad[17] = float.PositiveInfinity;
            using (var store = new CandidateStore(dim, storage))
            {
                store.Append(new float[3 * dim]);
                Assert.Single(Directory.GetFiles(spillDir));
                Assert.Throws<PatchCoreException>(() => store.Append(bad));
                Assert.Equal(3, store.Count);
                Assert.Equal(3L * dim * 2, store.FileBytes);
            }
            Assert.Empty(Directory.GetFiles(spillDir));

            var missing = Path.Combine(spillDir, "missing");
            var ex = Assert.Throws<PatchCoreException>(() => new CandidateStore(dim, storage with { SpillDirectory = missing }));
            Assert.Contains(missing, ex.Message);
            Assert.Empty(Directory.GetFiles(spillDir));
        }
        finally
        {
            Directory.Delete(spillDir, recursive: true);
        }
    }

    [Fact]
    public void ProjectionIsTheSeededGaussianMatrixProductAndDependsOnTheSeed()
    {
        const int dim = 200, n = 300, width = 64;
        var rows = SyntheticEmbeddings.Blobs(n, dim, clusters: 3, spread: 1f, noise: 1f, seed: 5);
        var options = new CoresetOptions(ProjectionDim: width, Seed: 42);
        using var store = SyntheticEmbeddings.Store(rows, dim, options, batchRows: 128);
        using var same = SyntheticEmbeddings.Store(rows, dim, options, batchRows: 77, new CandidateStoreOptions { ChunkRows = 50 });
        using var other = SyntheticEmbeddings.Store(rows, dim, options with { Seed = 43 });

        float[] matrix = RandomProjection.Create(dim, width, 42);
        double meanSquare = matrix.Average(v => (double)v * v);
        Assert.InRange(meanSquare, 0.8 / width, 1.2 / width); // entries ~ N(0, 1/width)
        var projected = new float[n * width];
        store.ReadProjected(0, projected);
        for (int i = 0; i < n; i += 13)
        {
            for (int j = 0; j < width; j++)
            {
                double expected = 0, scale = 0;
                for (int k = 0; k < dim; k++)
                {
                    expected += (double)rows[i * dim + k] * matrix[k * width + j];
                    scale += Math.Abs((double)rows[i * dim + k] * matrix[k * width + j]);
                }
                Assert.True(Math.Abs(projected[i * width + j] - expected) <= 1e-5 * scale + 1e-6,
                    $"row {i} col {j}: {projected[i * width + j]} vs {expected}");
                Assert.Equal(projected[i * width + j], store.ProjectedRow(i)[j]);
            }
        }
        var again = new float[n * width];
        same.ReadProjected(0, again);
        Assert.Equal(projected, again);

        // Projections beyond the memory budget (two chunks of 50 rows) go to a temp file and read back the same,
        // also in a read that straddles memory and file.
        string spillDir = Directory.CreateTempSubdirectory("coreset-projections-").FullName;
        try
        {
            using var spilled = SyntheticEmbeddings.Store(rows, dim, options, batchRows: 77,
                new CandidateStoreOptions { ChunkRows = 50, ProjectionMemoryBytes = 2L * 50 * width * sizeof(float), SpillDirectory = spillDir });
            Assert.Equal(100, spilled.ProjectedInMemoryRows);
            Assert.Single(Directory.GetFiles(spillDir));
            var fromFile = new float[n * width];
            spilled.ReadProjected(0, fromFile);
            Assert.Equal(projected, fromFile);
            var straddling = new float[20 * width];
            spilled.ReadProjected(90, straddling);
            Assert.Equal(projected.AsSpan(90 * width, 20 * width).ToArray(), straddling);
            Assert.Equal(projected.AsSpan(250 * width, width).ToArray(), spilled.ProjectedRow(250));
        }
        finally
        {
            Directory.Delete(spillDir, recursive: true);
        }
        var different = new float[n * width];
        other.ReadProjected(0, different);
        Assert.NotEqual(projected, different);
    }

    [Fact]
    public void BadRowsAreRejectedWithTheRowRangeAndProblem()
    {
        using var store = new CandidateStore(8);
        var ex = Assert.Throws<PatchCoreException>(() => store.Append(new float[12]));
        Assert.Contains("width 8", ex.Message);

        store.Append(new float[16]);
        var nan = new float[16];
        nan[9] = float.NaN;
        ex = Assert.Throws<PatchCoreException>(() => store.Append(nan));
        Assert.Contains("rows 2..3", ex.Message);
        Assert.Contains("NaN", ex.Message);

        var huge = new float[8];
        huge[3] = 1e6f;
        ex = Assert.Throws<PatchCoreException>(() => store.Append(huge));
        Assert.Contains("float16 range", ex.Message);
        Assert.Equal(2, store.Count); // rejected batches leave the store as it was

        Assert.Throws<ArgumentOutOfRangeException>(() => store.ReadRow(2, new float[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.ReadRows([0, -1]));
    }

    [Fact]
    public void LargeInputStaysFarBelowTheFloat32Size()
    {
        const int dim = 1024, batch = 4096, n = 300_000;
        var rows = SyntheticEmbeddings.Blobs(batch, dim, clusters: 8, spread: 1f, noise: 0.3f, seed: 3);
        using var store = new CandidateStore(dim);
        store.Append(rows.AsSpan(0, 16 * dim)); // warm up torch before the baseline
        GC.Collect();
        long before = ProcessMemory.RssBytes();
        for (int done = 16; done < n; done += batch)
            store.Append(rows.AsSpan(0, Math.Min(batch, n - done) * dim));
        GC.Collect();
        long growth = ProcessMemory.RssBytes() - before;
        long float32Bytes = (long)n * dim * sizeof(float);
        output.WriteLine($"{n} x {dim}: RSS grew {growth / 1e6:F0} MB (float16 rows {store.InMemoryBytes / 1e6:F0} MB + mapped {store.MappedBytes / 1e6:F0} MB, " +
            $"projections {n * 128 * 4 / 1e6:F0} MB); float32 size {float32Bytes / 1e6:F0} MB; peak RSS {ProcessMemory.PeakRssBytes() / 1e6:F0} MB");
        Assert.Equal(n, store.Count);
        Assert.True(growth < float32Bytes, $"RSS grew {growth / 1e6:F0} MB for {float32Bytes / 1e6:F0} MB of float32 rows");

        var last = new float[dim];
        store.ReadRow(n - 1, last);
        int source = (n - 1 - 16) % batch;
        AssertClose(rows.AsSpan(source * dim, dim), last);
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        for (int k = 0; k < expected.Length; k++)
        {
            float tolerance = 1e-3f * Math.Abs(expected[k]) + 1e-7f;
            Assert.True(Math.Abs(expected[k] - actual[k]) <= tolerance, $"index {k}: {actual[k]} vs {expected[k]}");
        }
    }
}

internal static class ProcessMemory
{
    public static long RssBytes() => StatusKiB("VmRSS:") * 1024;
    public static long PeakRssBytes() => StatusKiB("VmHWM:") * 1024;

    private static long StatusKiB(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line.AsSpan(key.Length).Trim().ToString().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return Environment.WorkingSet / 1024;
    }
}
