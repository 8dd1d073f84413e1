using Xunit;

namespace PatchCore.Inspection.Tests;

/// <summary>
/// Where the shared benchmark data lives: PATCHCORE_DATA, else ../shared/datasets beside the repository.
/// Tests that need it skip with a clear message where it is missing, except under CI (CI=true), where they fail.
/// </summary>
public static class TestData
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Root { get; } =
        Environment.GetEnvironmentVariable("PATCHCORE_DATA") is { Length: > 0 } env
            ? Path.GetFullPath(env)
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "datasets"));

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string Category(string name) => Path.Combine(Root, name);

    public static bool Has(string category) => Directory.Exists(Path.Combine(Root, category, "train", "good"));

    /// <summary>Fails with a clear message when the data is missing (used under CI, where skipping is not allowed).</summary>
    public static string Require(string category)
    {
        string dir = Category(category);
        if (!Has(category))
            throw new Xunit.Sdk.XunitException($"Benchmark data '{category}' not found at {dir}. Set PATCHCORE_DATA to the folder holding the MVTec-layout categories.");
        return dir;
    }

    public static string[] Images(string category, string sub) =>
        Directory.GetFiles(Path.Combine(Root, category, sub))
            .Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".bmp", StringComparison.OrdinalIgnoreCase))
            .OrderBy(f => f, StringComparer.Ordinal).ToArray();

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "PatchCore.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}

/// <summary>A fact that needs the shared data for the given categories: skipped where missing, except under CI.</summary>
public sealed class DataFactAttribute : FactAttribute
{
    public DataFactAttribute(params string[] categories)
    {
        var missing = categories.Where(c => !TestData.Has(c)).ToArray();
        if (missing.Length > 0 && !TestData.IsCi)
            Skip = $"Benchmark data missing under {TestData.Root}: {string.Join(", ", missing)} (set PATCHCORE_DATA).";
    }
}

/// <summary>A theory version of <see cref="DataFactAttribute"/>.</summary>
public sealed class DataTheoryAttribute : TheoryAttribute
{
    public DataTheoryAttribute(params string[] categories)
    {
        var missing = categories.Where(c => !TestData.Has(c)).ToArray();
        if (missing.Length > 0 && !TestData.IsCi)
            Skip = $"Benchmark data missing under {TestData.Root}: {string.Join(", ", missing)} (set PATCHCORE_DATA).";
    }
}
