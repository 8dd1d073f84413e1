using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Outbox;
using Xunit;

namespace PatchCore.Inspection.Tests.Mqtt;

/// <summary>The intake's memory of message identities: read back from the journal and the tickets, bounded, never forgetting one on its way.</summary>
public sealed class MqttDeliveriesUnitTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("patchcore-deliveries-").FullName;

    private static string Line(string id, string? source, string? messageId) => new InspectionRecord
    {
        Id = id, Path = "/o/ok/" + id, OriginalName = id + ".png", InboxPath = "/i/" + id, Verdict = PatchCore.Core.Scoring.Verdict.Ok,
        Submission = source is null ? null : new SubmissionOrigin(source, null) { MessageId = messageId },
    }.ToJsonLine();

    [Fact]
    public void TheJournalsMqttRecordsAndTheWaitingTicketsAreRememberedAndATornLastLineIsSkipped()
    {
        string journal = Path.Combine(_folder, "results.jsonl");
        File.WriteAllText(journal, string.Join('\n', Line("r1", "mqtt", "m-1"), Line("r2", "http", null), Line("r3", null, null), Line("r4", "mqtt", "cap/sha256:ab")) + "\n" + "{\"id\":\"r5\",\"submission\":{\"messageId\":\"m-5");
        var pending = new TaskCompletionSource<InspectionRecord>();
        var tickets = new[]
        {
            new SubmissionTicket("t1", "default", "upload-t1.png", "a.png", "mqtt", null, DateTimeOffset.UtcNow) { MessageId = "m-9" },
            new SubmissionTicket("t2", "default", "upload-t2.png", "b.png", "http", null, DateTimeOffset.UtcNow),
            new SubmissionTicket("t3", "default", "upload-t3.png", "c.png", "mqtt", null, DateTimeOffset.UtcNow) { MessageId = "m-10" },
        };
        var deliveries = new MqttDeliveries(1000);
        var (records, waiting) = deliveries.Load(((IResultLog)new ResultLog(journal)).ReadLast(MqttDeliveries.JournalTailBytes), tickets, id => id == "t1" ? pending.Task : null); // t3: recorded meanwhile
        Assert.Equal(2, records);
        Assert.Equal(2, waiting);
        Assert.Equal("r1", deliveries.Find("m-1")!.SubmissionId);
        Assert.Null(deliveries.Find("m-1")!.Pending);
        Assert.Equal("r4", deliveries.Find("cap/sha256:ab")!.SubmissionId);
        Assert.Same(pending.Task, deliveries.Find("m-9")!.Pending);
        Assert.Null(deliveries.Find("m-10"));
        Assert.Null(deliveries.Find("m-5"));
    }

    [Fact]
    public void TheOldestRecordedIdentitiesAreForgottenBeyondTheCapacityButNotOneOnItsWay()
    {
        var deliveries = new MqttDeliveries(3);
        var waiting = new TaskCompletionSource<InspectionRecord>();
        deliveries.Taken("a", "ida", waiting.Task);
        for (int i = 0; i < 10; i++) deliveries.Recorded("r" + i, "id" + i);
        Assert.NotNull(deliveries.Find("a"));
        Assert.NotNull(deliveries.Find("r9"));
        Assert.Null(deliveries.Find("r0"));
        Assert.InRange(deliveries.Count, 3, 4);
        deliveries.Recorded("a", "ida"); // recorded now: an ordinary identity again
        Assert.Null(deliveries.Find("a")!.Pending);
    }

    [Fact]
    public void AJournalLargerThanTheTailReadIsReadFromAWholeLine()
    {
        string journal = Path.Combine(_folder, "big.jsonl");
        using (var writer = new StreamWriter(journal))
        {
            writer.WriteLine(Line("old", "mqtt", "m-old"));
            string filler = Line("f", null, null);
            long written = 0;
            while (written < MqttDeliveries.JournalTailBytes) { writer.WriteLine(filler); written += filler.Length + 1; }
            writer.WriteLine(Line("new", "mqtt", "m-new"));
        }
        var deliveries = new MqttDeliveries(1000);
        var (records, _) = deliveries.Load(((IResultLog)new ResultLog(journal)).ReadLast(MqttDeliveries.JournalTailBytes), [], _ => null);
        Assert.Equal(1, records);
        Assert.NotNull(deliveries.Find("m-new"));
        Assert.Null(deliveries.Find("m-old"));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
