using PatchCore.Core.MemoryBank;
using Xunit;

namespace PatchCore.Core.Tests.MemoryBank;

/// <summary><see cref="BankVersions"/> on small synthetic bank files: names, pointer, listing, rollback, refusals.</summary>
public sealed class BankVersionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pc-versions-").FullName;
    private string Series => Path.Combine(_dir, "line2.bottle");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>v1 built, v2 updated from v1, v3 updated from v2; the pointer on v3. Returns the ids.</summary>
    private string[] ThreeVersions()
    {
        var ids = new List<string>();
        string? parent = null;
        for (int v = 1; v <= 3; v++)
        {
            var metadata = MemoryBankFileTests.Metadata(4 + v, 4) with
            {
                Updates = parent is null ? [] : [new BankUpdate { ParentId = parent, ParentFile = $"line2.bottle.v{v - 1}.pcbank", UpdatedUtc = DateTimeOffset.UtcNow, Added = [new AddedImage("x.png", "ab", false)], VectorsBefore = 3 + v, VectorsAdded = 1, Candidates = 10, Rule = "count 1" }],
                Calibration = new Calibration { Threshold = v, ReviewThreshold = v - 0.5, PixelThreshold = v * 2 },
            };
            parent = MemoryBankFile.Write(BankVersions.VersionPath(Series, v), metadata, new float[(4 + v) * 4], [1, 2, 3]);
            ids.Add(parent);
        }
        BankVersions.SetCurrent(Series, 3);
        return ids.ToArray();
    }

    [Fact]
    public void NamesPointerAndResolve()
    {
        Assert.Equal(Series, BankVersions.SeriesOf(Series + ".current"));
        Assert.Equal(Series, BankVersions.SeriesOf(Series + ".v12.pcbank"));
        Assert.Equal(Series, BankVersions.SeriesOf(Series + ".pcbank"));
        Assert.Equal(Series, BankVersions.SeriesOf(Series));
        Assert.Equal(12, BankVersions.VersionOf(Series + ".v12.pcbank"));
        Assert.Null(BankVersions.VersionOf(Series + ".pcbank"));
        Assert.Equal(Series + ".v1.pcbank", BankVersions.NextVersionPath(Series));

        ThreeVersions();
        Assert.Equal("line2.bottle.v3.pcbank\n", File.ReadAllText(Series + ".current"));
        Assert.Equal(Series + ".v3.pcbank", BankVersions.Resolve(Series + ".current"));
        Assert.Equal(Series + ".v1.pcbank", BankVersions.Resolve(Series + ".v1.pcbank")); // not a pointer: itself
        Assert.Equal(3, BankVersions.Current(Series));
        Assert.Equal(Series + ".v4.pcbank", BankVersions.NextVersionPath(Series + ".current"));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
    }

    [Fact]
    public void ListShowsEveryVersionWithItsParentThresholdsAndWhichIsCurrent()
    {
        var ids = ThreeVersions();
        File.WriteAllText(Path.Combine(_dir, "other.v1.pcbank"), "another series");
        var list = BankVersions.List(Series + ".current");
        Assert.Equal([1, 2, 3], list.Select(v => v.Version));
        Assert.Equal([false, false, true], list.Select(v => v.IsCurrent));
        Assert.Equal(ids, list.Select(v => v.Id));
        Assert.Equal([null, ids[0], ids[1]], list.Select(v => v.Metadata!.ParentId));
        Assert.Equal([1.0, 2.0, 3.0], list.Select(v => v.Metadata!.Calibration.Threshold!.Value));
        Assert.Equal([5L, 6L, 7L], list.Select(v => v.Metadata!.VectorCount));
        Assert.All(list, v => Assert.Equal(new FileInfo(v.Path).Length, v.FileBytes));
    }

    [Fact]
    public void RollbackMovesThePointerToTheParentOrTheGivenVersion()
    {
        ThreeVersions();
        Assert.Equal(2, BankVersions.Rollback(Series).Version);
        Assert.Equal(2, BankVersions.Current(Series));
        Assert.Equal(1, BankVersions.Rollback(Series).Version);
        var built = Assert.Throws<PatchCoreException>(() => BankVersions.Rollback(Series));
        Assert.Contains("has no parent", built.Message);
        Assert.Equal(3, BankVersions.Rollback(Series, to: 3).Version);
        Assert.Equal(Series + ".v3.pcbank", BankVersions.Resolve(Series + ".current"));
    }

    [Fact]
    public void RollbackRefusesAMissingOrCorruptTargetAndLeavesThePointer()
    {
        ThreeVersions();
        var missing = Assert.Throws<BankFileException>(() => BankVersions.Rollback(Series, to: 7));
        Assert.Contains("v7 does not exist", missing.Message);
        byte[] bytes = File.ReadAllBytes(Series + ".v2.pcbank");
        bytes[^17] ^= 1; // the last index byte, just before the checksum
        File.WriteAllBytes(Series + ".v2.pcbank", bytes);
        var corrupt = Assert.Throws<BankFileException>(() => BankVersions.Rollback(Series));
        Assert.Contains(Series + ".v2.pcbank", corrupt.Message);
        Assert.Contains("checksum mismatch", corrupt.Message);
        Assert.Throws<BankFileException>(() => BankVersions.SetCurrent(Series, 2));
        Assert.Equal(3, BankVersions.Current(Series));
        Assert.Contains("checksum mismatch", BankVersions.List(Series).Single(v => v.Version == 2).Problem);
    }

    [Fact]
    public void ALeftoverPointerTempFileIsIgnoredAndABadPointerIsNamed()
    {
        ThreeVersions();
        // a writer killed between writing its temp file and renaming it
        File.WriteAllText(Series + ".current.tmp-999-0123456789abcdef", "line2.bottle.v1.pcbank\n");
        File.WriteAllText(Series + ".v4.pcbank.tmp-999-0123456789abcdef", "half a bank");
        Assert.Equal(Series + ".v3.pcbank", BankVersions.Resolve(Series + ".current"));
        Assert.Equal([1, 2, 3], BankVersions.Versions(Series));
        Assert.Equal(Series + ".v4.pcbank", BankVersions.NextVersionPath(Series));
        BankVersions.SetCurrent(Series, 2);
        Assert.Equal(Series + ".v2.pcbank", BankVersions.Resolve(Series + ".current"));

        File.WriteAllText(Series + ".current", "../elsewhere/line2.bottle.v1.pcbank\n");
        var outside = Assert.Throws<BankFileException>(() => BankVersions.Resolve(Series + ".current"));
        Assert.Contains(Series + ".current", outside.Message);
        Assert.Contains("not a version file of line2.bottle", outside.Message);
        File.WriteAllText(Series + ".current", "line2.bottle.v9.pcbank");
        Assert.Contains("which does not exist", Assert.Throws<BankFileException>(() => BankVersions.Resolve(Series + ".current")).Message);
        Assert.Contains("pointer file not found", Assert.Throws<BankFileException>(() => BankVersions.Resolve(Path.Combine(_dir, "none.current"))).Message);
    }

    [Fact]
    public void AVersionIsNeverOverwritten()
    {
        ThreeVersions();
        var content = MemoryBankFile.Read(Series + ".v1.pcbank");
        byte[] before = File.ReadAllBytes(Series + ".v2.pcbank");
        var ex = Assert.Throws<BankFileException>(() => MemoryBankFile.Write(Series + ".v2.pcbank", content.Metadata, content.Vectors, content.IndexBytes, overwrite: false));
        Assert.Contains("never overwritten", ex.Message);
        Assert.Equal(before, File.ReadAllBytes(Series + ".v2.pcbank"));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
    }
}
