using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Processing;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

/// <summary>How files are gathered into intake batches (MaxBatchSize, MaxBatchDelayMs), and the backbone batch setting.</summary>
public sealed class BatchingUnitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TheWorkerGathersMaxBatchSizeFilesIntoOneScorerCall()
    {
        using var folders = FakeDaemon.NewFolders();
        for (int i = 0; i < 12; i++) folders.DropText($"img{i:D2}.png", "0.1");
        // A delay far longer than the test: every batch is complete by size, never by time.
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, "--Inspection:MaxBatchSize=4", "--Inspection:MaxBatchDelayMs=600000"))
        {
            await folders.WaitForRecords(12, TimeSpan.FromSeconds(30));
            Assert.Equal([4, 4, 4], daemon.Script.Calls.Select(c => c.Length));
        }
        folders.AssertEachExactlyOnce(Enumerable.Range(0, 12).Select(i => $"img{i:D2}.png").ToArray());
    }

    [Fact]
    public async Task APartialBatchIsInspectedOnceMaxBatchDelayMsHasPassed()
    {
        using var folders = FakeDaemon.NewFolders();
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, "--Inspection:MaxBatchSize=8", "--Inspection:MaxBatchDelayMs=200"))
        {
            folders.DropText("alone.png", "0.1");
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
            Assert.Equal(["alone.png"], daemon.Script.Calls.Single().Select(Path.GetFileName));
        }
    }

    [Fact]
    public async Task GatheringStopsAtMaxBatchSizeAndAClosedChannelEndsAPartialBatch()
    {
        var channel = Channel.CreateUnbounded<InboxFile>();
        for (int i = 0; i < 5; i++) channel.Writer.TryWrite(File(i));
        channel.Writer.Complete();
        var gatherer = new BatchGatherer(3, TimeSpan.FromMinutes(10));

        Assert.Equal(["f0", "f1", "f2"], (await gatherer.GatherAsync(channel.Reader, _ => Assert.Fail("handed back"), default)).Select(f => f.Name));
        Assert.Equal(["f3", "f4"], (await gatherer.GatherAsync(channel.Reader, _ => Assert.Fail("handed back"), default)).Select(f => f.Name));
        await Assert.ThrowsAsync<ChannelClosedException>(() => gatherer.GatherAsync(channel.Reader, _ => { }, default));
    }

    [Fact]
    public async Task TheLastBatchsLargestImageLimitsTheNextBatchToThePixelBudget()
    {
        var channel = Channel.CreateUnbounded<InboxFile>();
        for (int i = 0; i < 12; i++) channel.Writer.TryWrite(File(i));
        var gatherer = new BatchGatherer(5, TimeSpan.Zero, maxBatchPixels: 10_000_000);
        Assert.Equal(5, gatherer.Limit); // nothing seen yet: MaxBatchSize
        Assert.Equal(5, (await gatherer.GatherAsync(channel.Reader, _ => { }, default)).Count);

        gatherer.Observe(4_000_000); // 4 MP images: two fit 10 MP
        Assert.Equal(2, gatherer.Limit);
        Assert.Equal(["f5", "f6"], (await gatherer.GatherAsync(channel.Reader, _ => { }, default)).Select(f => f.Name));

        gatherer.Observe(0); // a batch with nothing decoded (all quarantined) leaves the last size in force
        Assert.Equal(2, gatherer.Limit);
        gatherer.Observe(40_000_000); // larger than the budget: still one file at a time
        Assert.Equal(["f7"], (await gatherer.GatherAsync(channel.Reader, _ => { }, default)).Select(f => f.Name));
        gatherer.Observe(100_000); // small again: MaxBatchSize
        Assert.Equal(["f8", "f9", "f10", "f11"], (await gatherer.GatherAsync(channel.Reader, _ => { }, default)).Select(f => f.Name));
    }

    [Fact]
    public async Task AFileThatComesWithinTheDelayJoinsTheBatch()
    {
        var channel = Channel.CreateUnbounded<InboxFile>();
        var gatherer = new BatchGatherer(2, TimeSpan.FromMinutes(10));
        channel.Writer.TryWrite(File(0));
        var gathering = gatherer.GatherAsync(channel.Reader, _ => { }, default);
        await Eventually.True(() => channel.Reader.Count == 0, "the first file to be taken");
        Assert.False(gathering.IsCompleted); // waiting for a second file (or ten minutes)
        channel.Writer.TryWrite(File(1));
        Assert.Equal(["f0", "f1"], (await gathering).Select(f => f.Name));
    }

    [Fact]
    public async Task StoppingWhileGatheringHandsBackTheFilesTaken()
    {
        var channel = Channel.CreateUnbounded<InboxFile>();
        var gatherer = new BatchGatherer(8, TimeSpan.FromMinutes(10));
        channel.Writer.TryWrite(File(0));
        channel.Writer.TryWrite(File(1));
        var handedBack = new List<string>();
        using var stop = new CancellationTokenSource();
        var gathering = gatherer.GatherAsync(channel.Reader, f => handedBack.Add(f.Name), stop.Token);
        await Eventually.True(() => channel.Reader.Count == 0, "both files to be taken");
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gathering);
        Assert.Equal(["f0", "f1"], handedBack);
    }

    [Fact]
    public void BatchSizeGoesToTheDetectorOnlyWhenSet()
    {
        Assert.Null(InspectionHost.DetectorOptionsFrom(new InspectionOptions()).BatchSize);
        var options = InspectionHost.DetectorOptionsFrom(new InspectionOptions { BatchSize = 16, MaxBatchSize = 4, DecodeParallelism = 3 });
        Assert.Equal(16, options.BatchSize);
        Assert.Equal(3, options.DecodeParallelism);
    }

    [Theory]
    [InlineData("--Inspection:BatchSize=0", "Inspection:BatchSize must be between 1 and 1024 (got 0).")]
    [InlineData("--Inspection:MaxBatchPixels=0", "Inspection:MaxBatchPixels must be positive (got 0).")]
    public async Task ABatchSettingOutOfRangeStopsTheStartNamingTheSetting(string setting, string failure)
    {
        using var folders = FakeDaemon.NewFolders();
        await using var daemon = new FakeDaemon(folders, output, setting);
        var e = await Assert.ThrowsAsync<OptionsValidationException>(daemon.StartAsync);
        Assert.Contains(failure, e.Failures);
    }

    private static InboxFile File(int i) => new($"/inbox/f{i}", $"f{i}", DateTimeOffset.UtcNow);
}
