using PatchCore.Inspection.Outbox;
using Xunit;

namespace PatchCore.Inspection.Tests;

public sealed class OutboxUnitTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("patchcore-inspection-unit-").FullName;

    [Fact]
    public void ATornLastRecordIsCutAndWholeRecordsStay()
    {
        var log = new ResultLog(Path.Combine(_root, "results.jsonl"));
        log.Append([Record("a"), Record("b")]);
        long whole = log.Length;
        File.AppendAllText(log.FilePath, "{\"id\":\"c\",\"pa");

        Assert.Equal(File.ReadAllBytes(log.FilePath).Length - whole, log.RepairTornTail());
        Assert.Equal(whole, log.Length);
        Assert.Equal(["a", "b"], log.ReadFrom(0, _ => Assert.Fail("bad line")).Select(r => r.Id));
        Assert.Equal(0, log.RepairTornTail());
    }

    [Fact]
    public void UniqueDestinationNeverReusesAnExistingOrReservedName()
    {
        File.WriteAllText(Path.Combine(_root, "x.png"), "");
        var reserved = new HashSet<string> { Path.Combine(_root, "x~1.png") };
        Assert.Equal(Path.Combine(_root, "x~2.png"), Layout.UniqueDestination(_root, "x.png", reserved));
        Assert.Equal(Path.Combine(_root, "y.png"), Layout.UniqueDestination(_root, "y.png", reserved));
    }

    private InspectionRecord Record(string id) => new()
    {
        Id = id,
        Path = Path.Combine(_root, id),
        OriginalName = id,
        InboxPath = Path.Combine(_root, "in", id),
        Verdict = Verdict.Ok,
    };

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
