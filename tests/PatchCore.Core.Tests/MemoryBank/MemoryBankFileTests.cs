using PatchCore.Core.Backbones;
using PatchCore.Core.Embedding;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using Xunit;

namespace PatchCore.Core.Tests.MemoryBank;

public sealed class MemoryBankFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pc-bankfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static BankMetadata Metadata(int count, int dim, string backbone = "resnet18") => new()
    {
        Backbone = backbone,
        WeightsId = "abc123",
        Preprocessing = Preprocessing.PackagedResNet18,
        Geometry = ImageGeometry.Default,
        Embedding = new EmbeddingOptions(),
        Coreset = new CoresetSettings(0.1, null, 128, 10, 0),
        IndexFactory = "Flat",
        Dimension = dim,
        VectorCount = count,
        CandidateCount = count * 10,
        TrainingImageCount = 2,
        TrainingImages = ["a.png", "b.png"],
        Calibration = new Calibration { HeldOutImages = ["c.png"], HeldOutScores = [1.5], Threshold = 2.0, Rule = "test" },
        CreatedUtc = new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero),
    };

    private string WriteSample(out float[] vectors, out byte[] index)
    {
        vectors = Enumerable.Range(0, 5 * 4).Select(i => i * 0.5f).ToArray();
        index = [1, 2, 3, 4, 5, 6, 7];
        string path = Path.Combine(_dir, "bank.pcbank");
        MemoryBankFile.Write(path, Metadata(5, 4), vectors, index);
        return path;
    }

    [Fact]
    public void RoundTripKeepsEverything()
    {
        string path = WriteSample(out var vectors, out var index);
        var content = MemoryBankFile.Read(path);
        Assert.Equal(vectors, content.Vectors);
        Assert.Equal(index, content.IndexBytes);
        Assert.Equal(Metadata(5, 4).Calibration.Threshold, content.Metadata.Calibration.Threshold);
        Assert.Equal(Preprocessing.PackagedResNet18, content.Metadata.Preprocessing);
        Assert.Equal(ImageGeometry.Default, content.Metadata.Geometry);
        Assert.Equal(["a.png", "b.png"], content.Metadata.TrainingImages);
        Assert.Equal(32, content.Checksum.Length);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
    }

    [Fact]
    public void TruncatedFileSaysTruncated()
    {
        string path = WriteSample(out _, out _);
        byte[] bytes = File.ReadAllBytes(path);
        foreach (int keep in new[] { bytes.Length - 1, bytes.Length - 20, bytes.Length / 2, 30 })
        {
            File.WriteAllBytes(path, bytes[..keep]);
            var ex = Assert.Throws<BankFileException>(() => MemoryBankFile.Read(path));
            Assert.Contains("truncated", ex.Problem);
            Assert.Contains(path, ex.Message);
        }
    }

    [Fact]
    public void OneFlippedByteIsACorruptedFile()
    {
        string path = WriteSample(out _, out _);
        byte[] bytes = File.ReadAllBytes(path);
        int vectorByte = bytes.Length - 16 - 8 - 7 - 3; // inside the vectors
        bytes[vectorByte] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<BankFileException>(() => MemoryBankFile.Read(path));
        Assert.Contains("checksum mismatch", ex.Problem);
    }

    [Fact]
    public void OtherVersionIsRefusedByName()
    {
        string path = WriteSample(out _, out _);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[8] = 99; // format version field follows the 8-byte magic
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<BankFileException>(() => MemoryBankFile.Read(path));
        Assert.Contains("version 99", ex.Problem);
    }

    [Fact]
    public void ForeignAndEmptyFilesAreRefused()
    {
        string foreign = Path.Combine(_dir, "model.onnx");
        File.WriteAllBytes(foreign, Enumerable.Range(0, 100).Select(i => (byte)i).ToArray());
        Assert.Contains("not a PatchCore bank", Assert.Throws<BankFileException>(() => MemoryBankFile.Read(foreign)).Problem);
        string empty = Path.Combine(_dir, "empty.pcbank");
        File.WriteAllBytes(empty, []);
        Assert.Contains("empty", Assert.Throws<BankFileException>(() => MemoryBankFile.Read(empty)).Problem);
        Assert.Contains("not found", Assert.Throws<BankFileException>(() => MemoryBankFile.Read(Path.Combine(_dir, "missing"))).Problem);
    }
}
