using PatchCore.Core;
using PatchCore.Core.Imaging;
using PatchCore.Core.Sampling;

namespace PatchCore.Bench;

/// <summary>What one bench run measures: data, category, size (full or quick) and the sections.</summary>
internal sealed record BenchSettings(string DataRoot, string Category, bool Quick, IReadOnlyList<string> Sections)
{
    /// <summary>Coreset share and seed of every bottle bank (the paper's 10 %, seed 0).</summary>
    public const double CoresetFraction = 0.1;
    public const int Seed = 0;

    /// <summary>Backbone input of the brief: every image resized to 256x256, centre crop 224.</summary>
    public static ImageGeometry Geometry { get; } = new() { Width = 256, Height = 256, Crop = 224 };

    public string CategoryDir => Path.Combine(DataRoot, Category);

    /// <summary>Timed repetitions per measurement (after the warm-up).</summary>
    public int Repetitions => Quick ? 2 : 5;

    /// <summary>Every n-th training image (sorted) goes into the in-process bottle bank.</summary>
    public int TrainStride => Quick ? 4 : 1;

    /// <summary>Every n-th test image is scored.</summary>
    public int TestStride => Quick ? 2 : 1;

    public static ModelOptions Model(int? batchSize = null) => new() { Geometry = Geometry, BatchSize = batchSize };

    public static CoresetOptions Coreset { get; } = new(CoresetFraction, Seed: Seed);

    public static BenchSettings Create(string? dataRoot, string category, bool quick, IReadOnlyList<string> sections)
    {
        string root = dataRoot is { Length: > 0 }
            ? Path.GetFullPath(dataRoot)
            : Environment.GetEnvironmentVariable("PATCHCORE_DATA") is { Length: > 0 } env
                ? Path.GetFullPath(env)
                : Path.GetFullPath(Path.Combine(FindRepoRoot(), "..", "shared", "datasets"));
        var names = sections.Count == 0 ? SectionCatalog.Names : sections.Select(s => s.Trim().ToLowerInvariant()).ToArray();
        foreach (string name in names)
            if (!SectionCatalog.Names.Contains(name))
                throw new PatchCoreException($"Unknown section '{name}': expected {string.Join(", ", SectionCatalog.Names)}.");
        return new BenchSettings(root, category, quick, names);
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "PatchCore.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}
