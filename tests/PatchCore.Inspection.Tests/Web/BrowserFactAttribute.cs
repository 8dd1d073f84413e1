using Xunit;

namespace PatchCore.Inspection.Tests.Web;

/// <summary>
/// A fact that drives a real browser (Debian's chromium through its chromium-driver, installed by tools/install-deps.sh)
/// on the shared data's categories: skipped with a message where either is missing, except under CI (CI=true), where
/// it runs and fails saying what is missing.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute(params string[] categories)
    {
        if (TestData.IsCi) return;
        var missing = categories.Where(c => !TestData.Has(c)).ToArray();
        if (missing.Length > 0)
            Skip = $"Benchmark data missing under {TestData.Root}: {string.Join(", ", missing)} (set PATCHCORE_DATA).";
        else if (Browser.Missing() is { } what)
            Skip = $"{what}: the live page's browser test needs Debian's chromium and chromium-driver (bash tools/install-deps.sh).";
    }
}
