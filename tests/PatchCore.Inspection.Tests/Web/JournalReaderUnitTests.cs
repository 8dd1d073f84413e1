using System.Text;
using Microsoft.Extensions.Logging.Testing;
using PatchCore.Inspection.Web;
using Xunit;

namespace PatchCore.Inspection.Tests.Web;

/// <summary>
/// The journal reader on journals written by the test: larger than what it reads at first and keeps in memory, with a
/// wall-clock step backwards, ids that are not version 7, a torn last line and a replaced file.
/// </summary>
public sealed class JournalReaderUnitTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("patchcore-journal-").FullName;
    private string Journal => Path.Combine(_folder, "results.jsonl");

    [Fact]
    public async Task EveryRecordIsFoundOldOrRecentAcrossAClockStepAndPagesFollowTheJournalsOrder()
    {
        // 20,000 records of about 1 KB: more than the 16 MB the reader starts from, far more than it keeps.
        var start = new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);
        var ids = new List<string>();
        var text = new StringBuilder();
        for (int i = 0; i < 20_000; i++)
        {
            // The clock steps back an hour at record 12,000 (an NTP correction): the bisection's order breaks there.
            var scoredAt = start.AddSeconds(i) - (i >= 12_000 ? TimeSpan.FromHours(1) : TimeSpan.Zero);
            // Every 97th id is not a version-7 GUID (a record written by something else): found by the scan alone.
            string id = i % 97 == 0 ? Guid.NewGuid().ToString("N") : Guid.CreateVersion7(scoredAt.AddMilliseconds(5)).ToString("N");
            ids.Add(id);
            text.Append(Line(id, scoredAt, i)).Append('\n');
        }
        File.WriteAllText(Journal, text.ToString());
        Assert.True(new FileInfo(Journal).Length > 16 << 20);
        using var reader = new JournalReader(Journal, new FakeLogger<JournalReader>());

        var latest = reader.Latest(3);
        Assert.Equal(ids[^3..], latest.Select(e => e.Id));
        foreach (int i in new[] { 0, 1, 96, 97, 5000, 11_999, 12_000, 12_001, 15_000, 18_999, 19_999 })
        {
            var found = await reader.FindAsync(ids[i], CancellationToken.None);
            Assert.True(found is not null, $"record {i} not found");
            Assert.Equal(ids[i], found.Id);
            Assert.StartsWith($"{{\"id\":\"{ids[i]}\",", found.Json);
            Assert.Contains($"\"n\":{i},", found.Json);
        }
        Assert.Null(await reader.FindAsync(Guid.CreateVersion7(start.AddSeconds(30)).ToString("N"), CancellationToken.None));

        var page = await reader.AfterAsync(ids[10], 5, CancellationToken.None);
        Assert.Equal(ids[11..16], page!.Select(e => e.Id));
        var acrossTheStep = await reader.AfterAsync(ids[11_998], 4, CancellationToken.None);
        Assert.Equal(ids[11_999..12_003], acrossTheStep!.Select(e => e.Id));
        var atTheEnd = await reader.AfterAsync(ids[^2], 10, CancellationToken.None);
        Assert.Equal([ids[^1]], atTheEnd!.Select(e => e.Id));
        Assert.Null(await reader.AfterAsync(Guid.CreateVersion7().ToString("N"), 10, CancellationToken.None));
    }

    [Fact]
    public async Task ALineBeingAppendedIsNotARecordUntilItsNewlineAndAReplacedJournalIsReadAgain()
    {
        var at = new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);
        string a = Guid.CreateVersion7(at).ToString("N"), b = Guid.CreateVersion7(at.AddSeconds(1)).ToString("N");
        File.WriteAllText(Journal, Line(a, at, 0) + "\nnot a record\n");
        var log = new FakeLogger<JournalReader>();
        using var reader = new JournalReader(Journal, log);
        Assert.Equal([a], reader.Latest(10).Select(e => e.Id));

        string half = Line(b, at.AddSeconds(1), 1);
        File.AppendAllText(Journal, half[..40]);
        Assert.Equal([a], reader.Latest(10).Select(e => e.Id));
        Assert.Null(await reader.FindAsync(b, CancellationToken.None));
        File.AppendAllText(Journal, half[40..] + "\n");
        Assert.Equal([a, b], reader.Latest(10).Select(e => e.Id));
        Assert.Equal(half, (await reader.FindAsync(b, CancellationToken.None))!.Json);

        string c = Guid.CreateVersion7(at.AddSeconds(2)).ToString("N");
        File.WriteAllText(Journal, Line(c, at.AddSeconds(2), 2) + "\n"); // replaced by a shorter file
        Assert.Equal([c], reader.Latest(10).Select(e => e.Id));
        Assert.Null(await reader.FindAsync(a, CancellationToken.None));
        Assert.Contains(log.Collector.GetSnapshot(), r => r.Id.Id == 716);
    }

    /// <summary>A journal line in the daemon's format (id first), padded to about 1 KB.</summary>
    private static string Line(string id, DateTimeOffset scoredAt, int n) =>
        $"{{\"id\":\"{id}\",\"path\":\"/outbox/ok/{n}.png\",\"n\":{n},\"scoredAt\":\"{scoredAt:O}\",\"pad\":\"{new string('x', 900)}\"}}";

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
