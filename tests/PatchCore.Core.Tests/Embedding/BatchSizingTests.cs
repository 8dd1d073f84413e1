using PatchCore.Core.Devices;
using Xunit;
using PatchCore.Core.Embedding;

namespace PatchCore.Core.Tests.Embedding;

public sealed class BatchSizingTests
{
    [Fact]
    public void BackboneBatchIsTheBudgetOverThePerImageEstimateWithinTheCap()
    {
        Assert.Equal(WorkSizing.MaxDeviceBatch, WorkSizing.BackboneBatchSize(64L << 30, 224, 224, 128, 256, 1024));
        Assert.Equal(3, WorkSizing.BackboneBatchSize(64L << 30, 224, 224, 128, 256, 1024, maxBatch: 3));
        Assert.Equal(1, WorkSizing.BackboneBatchSize(1L << 20, 224, 224, 128, 256, 1024));
        int some = WorkSizing.BackboneBatchSize(512L << 20, 224, 224, 128, 256, 1024);
        Assert.InRange(some, 2, WorkSizing.MaxDeviceBatch - 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkSizing.BackboneBatchSize(1L << 30, 224, 224, 128, 256, 1024, maxBatch: 0));
    }

    [Fact]
    public void DefaultBatchOnTheCpuIsCappedButAnExplicitOneIsKept()
    {
        using (var pipeline = new FeaturePipeline(new ModelOptions { Device = DeviceKind.Cpu }))
            Assert.InRange(pipeline.BatchSize, 1, WorkSizing.MaxCpuBatch);
        using (var pipeline = new FeaturePipeline(new ModelOptions { Device = DeviceKind.Cpu, BatchSize = 12 }))
            Assert.Equal(12, pipeline.BatchSize);
    }
}
