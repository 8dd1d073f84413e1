using Xunit;

namespace PatchCore.Core.Tests.Updating;

/// <summary>
/// The repository's 20 sample bottles (samples/bottle/train/good) copied into a temp folder: a bank built from the first
/// 10 (<see cref="OldBank"/>, 3 of them held out), and that bank updated with the other 10 by the coverage rule
/// (<see cref="NewBank"/>). No shared data needed.
/// </summary>
public sealed class SampleUpdateFixture : IDisposable
{
    public SampleUpdateFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("pc-update-").FullName;
        var samples = System.IO.Directory.GetFiles(Path.Combine(TestData.RepoRoot, "samples", "bottle", "train", "good"), "*.png").Order(StringComparer.Ordinal).ToArray();
        if (samples.Length != 20) throw new InvalidOperationException($"Expected the 20 sample bottles, found {samples.Length}.");
        First = Copy(samples[..10], "first");
        Second = Copy(samples[10..], "second");
        OldBank = Path.Combine(Directory, "old.pcbank");
        Build = PatchCoreBankBuilder.Build(new BuildOptions(First, OldBank));
        OldBytes = File.ReadAllBytes(OldBank);
        NewBank = Path.Combine(Directory, "new.pcbank");
        Update = PatchCoreBankUpdater.Update(new UpdateOptions(OldBank, Second, NewBank));
    }

    public string Directory { get; }
    public string[] First { get; }
    public string[] Second { get; }
    public string OldBank { get; }
    public byte[] OldBytes { get; }
    public BuildSummary Build { get; }
    public string NewBank { get; }
    public UpdateSummary Update { get; }

    /// <summary>A fresh sub-folder of the fixture's folder.</summary>
    public string NewFolder(string name) => System.IO.Directory.CreateDirectory(Path.Combine(Directory, name + "-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    private string[] Copy(string[] files, string folder)
    {
        string dir = System.IO.Directory.CreateDirectory(Path.Combine(Directory, folder)).FullName;
        return files.Select(f =>
        {
            string target = Path.Combine(dir, Path.GetFileName(f));
            File.Copy(f, target);
            return target;
        }).ToArray();
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

[CollectionDefinition("sample update")]
public sealed class SampleUpdateCollection : ICollectionFixture<SampleUpdateFixture>;
