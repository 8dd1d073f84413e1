using System.Net;
using System.Text.Json;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Web;

/// <summary>GET /v1/results, /v1/results/{id} and its heatmap: what the journal holds, and nothing outside the outbox.</summary>
public sealed class ResultsEndpointTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ResultsAreTheJournalsRecordsInItsOrderFromTheLatestOrAfterAnId()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        await using var web = await WebDaemon.StartAsync(folders, output);
        using (var empty = await web.Client.GetAsync("/v1/results"))
        {
            var page = Json(await empty.Content.ReadAsStringAsync());
            Assert.Equal(0, page.GetProperty("results").GetArrayLength());
            Assert.Equal(JsonValueKind.Null, page.GetProperty("next").ValueKind);
        }
        for (int i = 0; i < 5; i++)
        {
            folders.DropText($"r{i}.png", i % 2 == 0 ? "0.1" : "0.9");
            await folders.WaitForRecords(i + 1, TimeSpan.FromSeconds(30)); // one at a time: the journal's order is known
        }
        var lines = File.ReadAllLines(folders.ResultsFile);
        string[] ids = lines.Select(l => Json(l).GetProperty("id").GetString()!).ToArray();

        var latest = Json(await web.Client.GetStringAsync("/v1/results?limit=2"));
        Assert.Equal(lines[3..], latest.GetProperty("results").EnumerateArray().Select(r => r.GetRawText()));
        Assert.Equal(ids[4], latest.GetProperty("next").GetString());

        var after = Json(await web.Client.GetStringAsync($"/v1/results?since={ids[0]}&limit=3"));
        Assert.Equal(ids[1..4], after.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        Assert.Equal(ids[3], after.GetProperty("next").GetString());
        var atTheEnd = Json(await web.Client.GetStringAsync($"/v1/results?since={ids[4]}"));
        Assert.Equal(0, atTheEnd.GetProperty("results").GetArrayLength());
        Assert.Equal(ids[4], atTheEnd.GetProperty("next").GetString()); // poll again with the same id

        Assert.Equal(lines[2], await web.Client.GetStringAsync($"/v1/results/{ids[2]}"));
        string unknown = Guid.CreateVersion7().ToString("N");
        using (var missing = await web.Client.GetAsync($"/v1/results/{unknown}"))
            await InspectEndpointTests.AssertProblem(missing, HttpStatusCode.NotFound, unknown);
        using (var missingSince = await web.Client.GetAsync($"/v1/results?since={unknown}"))
            await InspectEndpointTests.AssertProblem(missingSince, HttpStatusCode.NotFound, unknown);
        foreach (string limit in new[] { "0", "1001", "-1", "abc" })
            using (var bad = await web.Client.GetAsync($"/v1/results?limit={limit}"))
                await InspectEndpointTests.AssertProblem(bad, HttpStatusCode.BadRequest, "limit");
    }

    [Fact]
    public async Task IdsAreCheckedAndAHeatmapIsServedOnlyFromInsideTheOutbox()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        await using var web = await WebDaemon.StartAsync(folders, output);
        folders.DropText("scored.png", "0.7");
        folders.DropText("words.png", "no image");
        await folders.WaitForRecords(2, TimeSpan.FromSeconds(30));
        var scored = folders.RecordOf("scored.png");
        string scoredId = scored.GetProperty("id").GetString()!, wordsId = folders.RecordOf("words.png").GetProperty("id").GetString()!;
        var before = InspectEndpointTests.FilesOutsideTheOutbox(folders);

        using (var heatmap = await web.Client.GetAsync($"/v1/results/{scoredId}/heatmap"))
        {
            Assert.Equal(HttpStatusCode.OK, heatmap.StatusCode);
            Assert.Equal("image/png", heatmap.Content.Headers.ContentType?.MediaType);
            Assert.Equal(File.ReadAllBytes(scored.GetProperty("heatmap").GetString()!), await heatmap.Content.ReadAsByteArrayAsync());
        }
        using (var none = await web.Client.GetAsync($"/v1/results/{wordsId}/heatmap"))
            await InspectEndpointTests.AssertProblem(none, HttpStatusCode.NotFound, "no heatmap");

        // Ids that try to name a path are refused before anything is looked up.
        foreach (string id in new[] { "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", scoredId.ToUpperInvariant(), scoredId[..31], scoredId + "0", "results.jsonl" })
        {
            using var response = await web.Client.GetAsync($"/v1/results/{id}/heatmap");
            await InspectEndpointTests.AssertProblem(response, HttpStatusCode.BadRequest, "not a record id");
        }
        using (var dots = await web.Client.GetAsync("/v1/results/../../../../etc/passwd"))
            Assert.Equal(HttpStatusCode.NotFound, dots.StatusCode); // the client and Kestrel resolve the dots: no such route

        // A journal edited to point a record's heatmap outside the outbox, or through a link inside it, gets no file.
        string outside = Path.Combine(folders.Root, "secret.png");
        File.WriteAllText(outside, "not for the web");
        string linkFolder = Path.Combine(folders.Outbox, "heatmaps", "linked");
        Directory.CreateSymbolicLink(linkFolder, folders.Root);
        string forgedOutside = Forge(folders, scored, outside), forgedLink = Forge(folders, scored, Path.Combine(linkFolder, "secret.png"));
        foreach (string forged in new[] { forgedOutside, forgedLink })
        {
            using var response = await web.Client.GetAsync($"/v1/results/{forged}/heatmap");
            await InspectEndpointTests.AssertProblem(response, HttpStatusCode.NotFound, "not a PNG file in the outbox");
        }
        Assert.Equal(before.Append(outside).Order(StringComparer.Ordinal), InspectEndpointTests.FilesOutsideTheOutbox(folders));
    }

    /// <summary>Appends to the journal a copy of <paramref name="record"/> with a new id and <paramref name="heatmap"/>; returns the id.</summary>
    private static string Forge(DaemonFolders folders, JsonElement record, string heatmap)
    {
        string id = Guid.CreateVersion7().ToString("N");
        var fields = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(record.GetRawText())!;
        fields["id"] = JsonSerializer.SerializeToElement(id);
        fields["heatmap"] = JsonSerializer.SerializeToElement(heatmap);
        File.AppendAllText(folders.ResultsFile, JsonSerializer.Serialize(fields) + "\n");
        return id;
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}
