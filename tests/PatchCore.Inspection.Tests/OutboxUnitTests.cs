using System.Text;
using PatchCore.Inspection.Outbox;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using PatchCore.Core.Scoring;

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
    public void ADiskThatFillsHalfWayThroughAnAppendLeavesNoHalfLine()
    {
        var plan = new FailurePlan();
        plan.FailCalls(FailurePlan.DiskFull, 2);
        var log = new ResultLog(Path.Combine(_root, "results.jsonl"),
            path => plan.NextFails(out _) ? new DiskFullStream(path) : new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));
        log.Append([Record("a")]);
        long whole = log.Length;

        var e = Assert.Throws<IOException>(() => log.Append([Record("b"), Record("c")]));
        Assert.Equal("No space left on device", e.Message);
        Assert.Equal(whole, log.Length);

        log.Append([Record("b"), Record("c")]); // the retry
        Assert.Equal(["a", "b", "c"], log.ReadFrom(0, line => Assert.Fail($"bad line {line}")).Select(r => r.Id));
    }

    /// <summary>
    /// results.jsonl is read by other programs: a journal written before the verdict became an enum reads, and is written
    /// back byte for byte. The first and third lines are what the string-verdict record wrote for the same values.
    /// </summary>
    [Theory]
    [InlineData("""{"id":"0195f0c2a1b27c3d9e8f0a1b2c3d4e5f","path":"/srv/outbox/ng/2025-03-01/img0007.png","originalName":"img0007.png","inboxPath":"/srv/inbox/img0007.png","sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","size":123456,"score":2.718281828459045,"threshold":1.5,"verdict":"ng","reason":null,"heatmap":"/srv/outbox/heatmaps/2025-03-01/ng/img0007.heatmap.png","bankId":"c0ffee","receivedAt":"2025-03-01T10:15:30.1234567+00:00","scoredAt":"2025-03-01T10:15:31.7654321+00:00"}""")]
    [InlineData("""{"id":"a","path":"/srv/outbox/ok/2025-03-01/a.png","originalName":"a.png","inboxPath":"/srv/inbox/a.png","sha256":"00","size":1,"score":0.25,"threshold":1.5,"verdict":"ok","reason":null,"heatmap":null,"bankId":"c0ffee","receivedAt":"2025-03-01T10:15:30+01:00","scoredAt":"2025-03-01T10:15:31+01:00"}""")]
    [InlineData("""{"id":"q","path":"/srv/outbox/quarantine/q.png","originalName":"q.png","inboxPath":"/srv/inbox/q.png","sha256":null,"size":0,"score":null,"threshold":null,"verdict":"quarantined","reason":"zero-byte file","heatmap":null,"bankId":"c0ffee","receivedAt":"2025-03-01T10:15:30+00:00","scoredAt":"2025-03-01T10:15:31+00:00"}""")]
    public void AnOldJournalLineReadsAndIsWrittenBackByteForByte(string line)
    {
        var record = InspectionRecord.FromJsonLine(line)!;
        Assert.Equal(line, record.ToJsonLine());
        Assert.Contains($"\"verdict\":\"{record.Verdict.ToString().ToLowerInvariant()}\"", line);
    }

    /// <summary>A record of a product ends with it; one of no product (and every record before products existed) has none.</summary>
    [Fact]
    public void TheProductIsWrittenLastAndOnlyWhenThereIsOne()
    {
        string line = (Record("a") with { Product = "cap" }).ToJsonLine();
        Assert.EndsWith(",\"product\":\"cap\"}", line);
        Assert.Equal("cap", InspectionRecord.FromJsonLine(line)!.Product);
        Assert.DoesNotContain("product", Record("a").ToJsonLine());
        Assert.Null(InspectionRecord.FromJsonLine(Record("a").ToJsonLine())!.Product);
    }

    [Fact]
    public void TheVerdictIsWrittenAsTheStringsReadersKnow()
    {
        Assert.Contains("\"verdict\":\"ok\"", (Record("a") with { Verdict = Verdict.Ok }).ToJsonLine());
        Assert.Contains("\"verdict\":\"ng\"", (Record("a") with { Verdict = Verdict.Ng }).ToJsonLine());
        Assert.Contains("\"verdict\":\"quarantined\"", (Record("a") with { Verdict = Verdict.Quarantined }).ToJsonLine());
        Assert.Contains("\"verdict\":\"review\"", (Record("a") with { Verdict = Verdict.Review }).ToJsonLine());
        Assert.Equal(4, Enum.GetValues<Verdict>().Length); // a new verdict needs its string here and in the readers
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
