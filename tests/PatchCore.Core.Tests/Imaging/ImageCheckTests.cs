using PatchCore.Core.Imaging;
using Xunit;

namespace PatchCore.Core.Tests.Imaging;

/// <summary>The check a host runs before feeding an image to slow work: the decoder's own checks, no scoring.</summary>
public sealed class ImageCheckTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("patchcore-imagecheck-").FullName;

    [Fact]
    public void ASampleImageIsReadableAndGivesItsSize()
    {
        string sample = Path.Combine(TestData.RepoRoot, "samples", "bottle", "test", "good_000.png");
        var (width, height) = ImageCheck.Check(sample);
        Assert.True(width > 0 && height > 0);
    }

    [Fact]
    public void TextTruncatedAndMissingFilesAreRefusedNamingTheFileAndTheProblem()
    {
        string text = Path.Combine(_folder, "text.png");
        File.WriteAllText(text, "not an image");
        var e = Assert.Throws<ImageLoadException>(() => ImageCheck.Check(text));
        Assert.Equal(text, e.FilePath);
        Assert.Contains("not an image", e.Reason, StringComparison.Ordinal);

        string missing = Path.Combine(_folder, "missing.png");
        var gone = Assert.Throws<ImageLoadException>(() => ImageCheck.Check(missing));
        Assert.True(gone.IsMissing);

        string empty = Path.Combine(_folder, "empty.png");
        File.WriteAllBytes(empty, []);
        Assert.Contains("empty", Assert.Throws<ImageLoadException>(() => ImageCheck.Check(empty)).Reason, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
