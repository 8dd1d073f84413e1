using PatchCore.Core.Scoring;
using Xunit;

namespace PatchCore.Core.Tests.Scoring;

public class GaussianBlurTests
{
    [Fact]
    public void KernelMatchesScipyRadiusAndSumsToOne()
    {
        float[] k = GaussianBlur.Kernel(4.0);
        Assert.Equal(33, k.Length); // radius int(4 * 4 + 0.5) = 16
        Assert.Equal(1.0, k.Sum(), 5);
        Assert.Equal(k[0], k[^1]);
        Assert.True(k[16] > k[15]);
    }

    [Fact]
    public void ReflectRepeatsTheEdgeSample()
    {
        // scipy 'reflect' on n=4: index -1 -> 0, -2 -> 1, 4 -> 3, 5 -> 2
        Assert.Equal(0, GaussianBlur.Reflect(-1, 4));
        Assert.Equal(1, GaussianBlur.Reflect(-2, 4));
        Assert.Equal(3, GaussianBlur.Reflect(4, 4));
        Assert.Equal(2, GaussianBlur.Reflect(5, 4));
        Assert.Equal(0, GaussianBlur.Reflect(0, 1));
    }

    [Fact]
    public void ConstantMapStaysConstantAndImpulseSpreadsSymmetrically()
    {
        var flat = Enumerable.Repeat(2.5f, 20 * 30).ToArray();
        GaussianBlur.Apply(flat, 30, 20, 4);
        Assert.All(flat, v => Assert.Equal(2.5f, v, 4));

        var impulse = new float[41 * 41];
        impulse[20 * 41 + 20] = 1;
        GaussianBlur.Apply(impulse, 41, 41, 2);
        Assert.Equal(1.0, impulse.Sum(), 4); // sigma 2 -> radius 8 stays inside
        Assert.Equal(impulse[20 * 41 + 17], impulse[20 * 41 + 23], 6);
        Assert.Equal(impulse[17 * 41 + 20], impulse[20 * 41 + 17], 6);
        // value at the centre is the product of the two 1-D kernel centres
        float[] k = GaussianBlur.Kernel(2);
        Assert.Equal(k[8] * k[8], impulse[20 * 41 + 20], 6);
    }

    [Theory]
    [InlineData(1, 1, 4.0)]
    [InlineData(7, 3, 1.0)]
    [InlineData(37, 19, 4.0)]
    [InlineData(224, 224, 4.0)]
    [InlineData(61, 200, 2.5)]
    public void TheVectorPathsEqualTheScalarRuleBitForBit(int width, int height, double sigma)
    {
        var random = new Random(width * 1000 + height);
        float[] map = Enumerable.Range(0, width * height).Select(_ => (float)(random.NextDouble() * 10)).ToArray();
        float[] expected = ScalarBlur(map, width, height, sigma);
        GaussianBlur.Apply(map, width, height, sigma);
        for (int i = 0; i < map.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(map[i]), $"pixel {i}: {map[i]:R} instead of {expected[i]:R}");
    }

    /// <summary>The rule one output at a time: rows then columns, sum over the taps of (float) tap x sample in double.</summary>
    private static float[] ScalarBlur(float[] source, int width, int height, double sigma)
    {
        float[] k = GaussianBlur.Kernel(sigma);
        int r = k.Length / 2;
        var rows = new float[source.Length];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double sum = 0;
                for (int j = 0; j < k.Length; j++) sum += k[j] * source[y * width + GaussianBlur.Reflect(x + j - r, width)];
                rows[y * width + x] = (float)sum;
            }
        var result = new float[source.Length];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double sum = 0;
                for (int j = 0; j < k.Length; j++) sum += k[j] * rows[GaussianBlur.Reflect(y + j - r, height) * width + x];
                result[y * width + x] = (float)sum;
            }
        return result;
    }
}
