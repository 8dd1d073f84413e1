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
}
