using PatchCore.Core.Native;
using Xunit;

namespace PatchCore.Core.Tests.Native;

// Environment variables are process-wide: these tests do not run beside each other.
[Collection(nameof(NativeHeapTests))]
public class NativeHeapTests
{
    [Fact]
    public void GlibcTakesTheThresholds()
    {
        if (!OperatingSystem.IsLinux()) return; // glibc's settings; nothing to set elsewhere
        Assert.True(NativeHeap.KeepLargeBlocks(), "glibc refused the mmap or trim threshold");
        Assert.True(NativeHeap.LargeBlocksKept);
    }

    [Theory]
    [InlineData("MALLOC_MMAP_THRESHOLD_", "1048576")]
    [InlineData("MALLOC_TRIM_THRESHOLD_", "1048576")]
    [InlineData("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1048576")]
    [InlineData("GLIBC_TUNABLES", "glibc.malloc.arena_max=4:glibc.malloc.mmap_threshold=1048576")]
    public void AnEnvironmentThatSetsTheThresholdsIsLeftAlone(string variable, string value)
    {
        using (Set(variable, value))
            Assert.False(NativeHeap.KeepLargeBlocks());
        if (OperatingSystem.IsLinux()) Assert.True(NativeHeap.KeepLargeBlocks());
    }

    [Fact]
    public void TunablesThatDoNotNameTheThresholdsDoNotStopThem()
    {
        if (!OperatingSystem.IsLinux()) return;
        using (Set("GLIBC_TUNABLES", "glibc.malloc.arena_max=4"))
            Assert.True(NativeHeap.KeepLargeBlocks());
    }

    [Theory]
    [InlineData("MALLOC_ARENA_MAX", "4")]
    [InlineData("GLIBC_TUNABLES", "glibc.malloc.arena_max=4")]
    public void AnEnvironmentThatCapsTheArenasIsLeftAlone(string variable, string value)
    {
        using (Set(variable, value))
            Assert.False(NativeHeap.CapArenas(2));
    }

    private static Restore Set(string variable, string value)
    {
        var restore = new Restore(variable, Environment.GetEnvironmentVariable(variable));
        Environment.SetEnvironmentVariable(variable, value);
        return restore;
    }

    private sealed record Restore(string Variable, string? Value) : IDisposable
    {
        public void Dispose() => Environment.SetEnvironmentVariable(Variable, Value);
    }

    [Fact]
    public void AnArenaCapBelowOneIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => NativeHeap.CapArenas(0));
}
