using PatchCore.Core.Scoring;
using Xunit;

namespace PatchCore.Core.Tests.Scoring;

public sealed class ThresholdsTests
{
    [Fact]
    public void ThreeBandsAndTheirEdges()
    {
        var t = new Thresholds { Ng = 10, Review = 8 };
        Assert.Equal(Verdict.Ok, t.VerdictOf(7.999));
        Assert.Equal(Verdict.Review, t.VerdictOf(8));
        Assert.Equal(Verdict.Review, t.VerdictOf(9.999));
        Assert.Equal(Verdict.Ng, t.VerdictOf(10));
        Assert.Equal(Verdict.Ng, (t with { Review = null }).VerdictOf(10));
        Assert.Equal(Verdict.Ok, (t with { Review = null }).VerdictOf(9.999));
        Assert.Null(new Thresholds().VerdictOf(100));
    }

    [Fact]
    public void OverridesReplaceOnlyWhatTheySet()
    {
        var bank = new Thresholds { Ng = 10, Review = 8, Pixel = 5 };
        Assert.Equal(new Thresholds { Ng = 12, Review = 8, Pixel = 5 }, bank.With(new Thresholds { Ng = 12 }));
        Assert.Equal(bank, bank.With(null));
    }

    [Fact]
    public void NonsenseIsRefusedByName()
    {
        Assert.Contains("review threshold (11)", Assert.Throws<PatchCoreException>(() => new Thresholds { Ng = 10, Review = 11 }.Validate()).Message);
        Assert.Contains("pixel", Assert.Throws<PatchCoreException>(() => new Thresholds { Pixel = double.NaN }.Validate()).Message);
        Assert.Contains("ng", Assert.Throws<PatchCoreException>(() => new Thresholds { Ng = -1 }.Validate()).Message);
        Assert.Equal(["ok", "review", "ng", "quarantined"], new[] { Verdict.Ok, Verdict.Review, Verdict.Ng, Verdict.Quarantined }.Select(Verdicts.Name));
        Assert.Equal("\"review\"", System.Text.Json.JsonSerializer.Serialize(Verdict.Review));
    }
}
