using Xunit;

namespace PatchCore.Core.Tests.Backbones;

/// <summary>The shared reference notes beside the repository (../shared/reference).</summary>
public static class SharedReference
{
    public static string Path(string file) =>
        System.IO.Path.GetFullPath(System.IO.Path.Combine(TestData.RepoRoot, "..", "shared", "reference", file));
}

/// <summary>A fact that needs a shared reference file: skipped where missing, except under CI, where it fails.</summary>
public sealed class ReferenceFactAttribute : FactAttribute
{
    public ReferenceFactAttribute(string file)
    {
        if (!File.Exists(SharedReference.Path(file)) && !TestData.IsCi)
            Skip = $"Shared reference file missing: {SharedReference.Path(file)}.";
    }
}
