using PatchCore.Core.Embedding;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PatchCore.Core.Tests.Embedding;

public class PatchEmbedderTests
{
    [Theory]
    [InlineData(28, 28, 14, 14, 1024)]
    [InlineData(40, 32, 20, 16, 512)]
    public void PaperModeGivesOneEmbeddingPerLayer2Cell(int w2, int h2, int w3, int h3, int dim)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var l2 = randn(2, 128, h2, w2);
        var l3 = randn(2, 256, h3, w3);
        var e = new PatchEmbedder(new EmbeddingOptions { TargetDimension = dim, PretrainDimension = dim }).Embed(l2, l3);
        Assert.Equal(new long[] { 2, h2 * w2, dim }, e.shape);
    }

    [Theory]
    [InlineData(128, 256, 28, 28, 14, 14, 3, 1024, 1024)]   // resnet18 at 224x224, the default
    [InlineData(128, 256, 32, 80, 16, 40, 3, 1024, 1024)]   // a long part, 256x640
    [InlineData(512, 1024, 28, 28, 14, 14, 3, 1024, 1024)]  // wide_resnet50_2's widths
    [InlineData(128, 256, 28, 28, 14, 14, 5, 700, 300)]     // bins that straddle the two layers and overlap
    [InlineData(1, 1, 4, 4, 2, 2, 3, 9, 9)]
    public void ThePaperModeAsASparseLinearMapEqualsThePapersOwnSequence(int c2, int c3, int h2, int w2, int h3, int w3, int patch, int pretrain, int target)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var l2 = randn(2, c2, h2, w2).relu();
        var l3 = randn(2, c3, h3, w3).relu();
        var embedder = new PatchEmbedder(new EmbeddingOptions { PatchSize = patch, PretrainDimension = pretrain, TargetDimension = target });
        var fast = embedder.Embed(l2, l3);
        var reference = embedder.EmbedPaperReference(l2, l3);
        Assert.Equal(reference.shape, fast.shape);
        double maxDiff = (fast - reference).abs().max().item<float>();
        Assert.True(maxDiff <= 1e-5, $"max difference {maxDiff}");
    }

    [Fact]
    public void ConcatModeIs384DimensionalForResNet18Widths()
    {
        using var scope = NewDisposeScope();
        var e = new PatchEmbedder(new EmbeddingOptions { Mode = EmbeddingMode.Concat }).Embed(randn(1, 128, 28, 28), randn(1, 256, 14, 14));
        Assert.Equal(new long[] { 1, 784, 384 }, e.shape);
    }

    [Fact]
    public void PaperModeAveragesNeighbourhoodsAsDocumented()
    {
        // One channel per layer, constant maps: every interior patch of layer2 sees nine ones, so its pooled value is 1;
        // a corner patch sees four ones and five zero pads. With PretrainDimension = 9 and TargetDimension = 9 the
        // first pooling is the identity on the 9 neighbourhood values, the final one averages layer2 and layer3 pairs.
        using var scope = NewDisposeScope();
        var l2 = ones(1, 1, 4, 4);
        var l3 = zeros(1, 1, 2, 2);
        var e = new PatchEmbedder(new EmbeddingOptions { PretrainDimension = 9, TargetDimension = 9 }).Embed(l2, l3);
        // [1, 16, 9]: stacked [16, 2, 9] -> [16, 18] -> pooled to 9 = mean of consecutive pairs of layer2's values
        // Layer2 cell (1,1) unfolds to nine ones, layer3 (zeros) to nine zeros; the 18 stacked values pooled to 9 are
        // pair means: four pairs of layer2 ones, one mixed pair (1, 0), four pairs of layer3 zeros.
        float[] interior = e[0, 5].data<float>().ToArray();
        Assert.Equal(new[] { 1f, 1f, 1f, 1f, 0.5f, 0f, 0f, 0f, 0f }, interior);
        // Corner cell (0,0): the 3x3 window (channel-major, row by row) is [0,0,0, 0,1,1, 0,1,1] with zero padding.
        float[] corner = e[0, 0].data<float>().ToArray();
        Assert.Equal(new[] { 0f, 0f, 1f, 0.5f, 0.5f, 0f, 0f, 0f, 0f }, corner);
    }

    [Fact]
    public void AnImageAloneAndInsideABatchGiveTheSameEmbeddings()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var l2 = randn(8, 128, 28, 28);
        var l3 = randn(8, 256, 14, 14);
        var embedder = new PatchEmbedder(new EmbeddingOptions());
        var batch = embedder.Embed(l2, l3);
        var single = embedder.Embed(l2[3..4], l3[3..4]);
        Assert.True((batch[3] - single[0]).abs().max().item<float>() < 1e-5f);
    }
}
