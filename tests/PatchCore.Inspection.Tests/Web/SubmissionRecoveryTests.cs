using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Web;

/// <summary>
/// What a crash can leave of submissions, laid out by hand as the daemon would have left it, then a start: every
/// accepted submission gets its one record with its sender's name and id, and nothing else survives.
/// </summary>
public sealed class SubmissionRecoveryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SubmissionsACrashLeftBehindAreFinishedAtTheNextStart()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        string uploads = Directory.CreateDirectory(Path.Combine(folders.Inbox, ".inspection", "uploads")).FullName;
        // 1. Accepted (ticket durable) but killed before the rename into the inbox.
        string notRenamed = Ticket(uploads, "not-renamed.png");
        File.WriteAllText(Path.Combine(uploads, notRenamed + ".upload"), "0.2");
        // 2. Renamed into the inbox, killed before its batch.
        string inInbox = Ticket(uploads, "in-inbox.png");
        File.WriteAllText(Path.Combine(folders.Inbox, $"upload-{inInbox}.png"), "0.9");
        // 3. Cut short before it was accepted: bytes without a ticket (its sender got no answer).
        File.WriteAllText(Path.Combine(uploads, Guid.CreateVersion7().ToString("N") + ".upload"), "0.");
        // 4. Recorded and moved before the crash, but its ticket was not removed yet.
        string recorded = Ticket(uploads, "recorded.png");
        // 5. Killed while its ticket was being written (the atomic write's temp file, never renamed): never accepted.
        string cut = Guid.CreateVersion7().ToString("N");
        File.WriteAllText(Path.Combine(uploads, cut + ".upload"), "0.3");
        File.WriteAllText(Path.Combine(uploads, $".{cut}.json.4242.tmp"), "{\"id\":");

        await using (await FakeDaemon.StartAsync(folders, output))
            await folders.WaitForRecords(2, TimeSpan.FromSeconds(30));

        folders.AssertEachExactlyOnce(["not-renamed.png", "in-inbox.png"]);
        foreach (var (name, id, verdict) in new[] { ("not-renamed.png", notRenamed, "ok"), ("in-inbox.png", inInbox, "ng") })
        {
            var record = folders.RecordOf(name);
            Assert.Equal(id, record.GetProperty("id").GetString()); // the id its sender was given
            Assert.Equal(verdict, record.GetProperty("verdict").GetString());
            Assert.Equal("http", record.GetProperty("submission").GetProperty("source").GetString());
            Assert.Equal("before-the-crash", record.GetProperty("submission").GetProperty("metadata").GetProperty("note").GetString());
            Assert.Equal(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), record.GetProperty("receivedAt").GetDateTimeOffset());
        }
        Assert.DoesNotContain(folders.Records(), r => r.GetProperty("id").GetString() == recorded);
        Assert.Empty(Directory.GetFileSystemEntries(uploads));
    }

    /// <summary>Writes the ticket a submission of <paramref name="name"/> gets; returns its id.</summary>
    [Fact]
    public async Task ASubmissionDuringTheStartWaitsUntilTheLeftoversAreFinished()
    {
        // Built, not started: the worker has not run Recover yet, as while it reconciles after a restart. Were the upload
        // kept now, Recover could take its bytes, still without their ticket, for an upload a crash cut short.
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        await using var daemon = new FakeDaemon(folders, output);
        var submissions = daemon.Host.Services.GetRequiredService<ImageSubmissions>();
        var layout = daemon.Host.Services.GetRequiredService<Layout>();
        var submitted = submissions.SubmitAsync(new Submission("default", "early.png", "http"), new MemoryStream("0.9"u8.ToArray()), CancellationToken.None);
        await Task.Delay(500);
        Assert.False(submitted.IsCompleted, "the submission was kept before the leftovers of a restart were finished");
        Assert.False(Directory.Exists(layout.UploadsFolder) && Directory.EnumerateFileSystemEntries(layout.UploadsFolder).Any());

        Assert.Equal(0, submissions.Recover());
        var image = await submitted.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Single(Directory.GetFiles(folders.Inbox, "upload-" + image.Id + "*"));
    }

    private static string Ticket(string uploads, string name)
    {
        string id = Guid.CreateVersion7().ToString("N");
        var ticket = new SubmissionTicket(id, "default", $"upload-{id}.png", name, "http",
            new Dictionary<string, string> { ["note"] = "before-the-crash" }, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        File.WriteAllText(Path.Combine(uploads, id + ".json"), JsonSerializer.Serialize(ticket, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        return id;
    }
}
