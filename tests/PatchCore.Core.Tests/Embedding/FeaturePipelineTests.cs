using PatchCore.Core.Imaging;
using Xunit;
using PatchCore.Core.Embedding;

namespace PatchCore.Core.Tests.Embedding;

/// <summary>The real backbone and embedder on real images.</summary>
public sealed class FeaturePipelineTests
{
    [DataFact("bottle")]
    public void AnImageAloneAndInsideABatchOfEightGiveTheSameEmbeddings()
    {
        using var pipeline = new FeaturePipeline(new ModelOptions { BatchSize = 8 });
        var paths = TestData.Images("bottle", "test/broken_small").Take(8).ToArray();
        var images = paths.Select(p => pipeline.Decoder.Decode(p)).ToArray();
        try
        {
            using var batch = pipeline.Embed(images);
            Assert.Equal((8, 28, 28, 1024), (batch.Count, batch.GridWidth, batch.GridHeight, batch.Dimension));
            int per = 784 * 1024;
            foreach (int i in new[] { 0, 5 })
            {
                using var alone = pipeline.Embed([images[i]]);
                float maxDiff = 0;
                for (int j = 0; j < per; j++) maxDiff = Math.Max(maxDiff, Math.Abs(alone.Values[j] - batch.Values[i * per + j]));
                Assert.True(maxDiff < 1e-4f, $"image {i}: max difference {maxDiff}");
            }
        }
        finally { foreach (var i in images) i.Dispose(); }
    }

    [DataFact("bottle")]
    public void EmbeddingShapesFollowTheInputSize()
    {
        string path = TestData.Images("bottle", "test/good")[0];
        using (var p224 = new FeaturePipeline(new ModelOptions()))
        using (var img = p224.Decoder.Decode(path))
        {
            using var e = p224.Embed([img]);
            Assert.Equal((28, 28, 1024), (e.GridWidth, e.GridHeight, e.Dimension));
            Assert.Equal(784 * 1024, e.Values.Length);
        }
        // whole-image mode at 320x256: layer2 has stride 8 -> a 40 x 32 grid; concat mode is 128 + 256 = 384-D
        using var wide = new FeaturePipeline(new ModelOptions
        {
            Geometry = ImageGeometry.Parse("320x256", "none"),
            Embedding = new Core.Embedding.EmbeddingOptions { Mode = Core.Embedding.EmbeddingMode.Concat },
        });
        using var img2 = wide.Decoder.Decode(path);
        using var e2 = wide.Embed([img2]);
        Assert.Equal((40, 32, 384), (e2.GridWidth, e2.GridHeight, e2.Dimension));
        Assert.Equal(384, wide.Dimension);
    }
}
