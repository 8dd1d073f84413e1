using System.Net;
using System.Text.Json;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Web;

/// <summary>POST /v1/results/{id}/feedback: a review or ng record's image moves into its product's feedback/good/.</summary>
public sealed class FeedbackEndpointTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AnNgRecordsImageIsMovedIntoFeedbackGoodAndOthersAreRefused()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        string pointer = Path.Combine(folders.Root, "bank", "fake.current"); // feedback needs a version pointer (the fake loader reads it as its bank)
        File.Copy(folders.Bank, pointer);
        // The feedback loop looks once at start and then not for an hour: the moved image stays where the endpoint put it.
        await using var web = await WebDaemon.StartAsync(folders, output, $"--Inspection:Bank={pointer}", "--Inspection:Feedback:Enabled=true",
            "--Inspection:Feedback:MinImages=100", "--Inspection:Feedback:PollIntervalMs=3600000");
        folders.DropText("alarm.png", "0.9");
        folders.DropText("fine.png", "0.1");
        await folders.WaitForRecords(2, TimeSpan.FromSeconds(30));
        var alarm = folders.RecordOf("alarm.png");
        string id = alarm.GetProperty("id").GetString()!;
        string placed = alarm.GetProperty("path").GetString()!;

        using (var response = await web.Client.PostAsync($"/v1/results/{id}/feedback", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("default", body.GetProperty("product").GetString());
            Assert.Equal(Path.Combine("feedback", "good", Path.GetFileName(placed)), body.GetProperty("file").GetString());
        }
        Assert.False(File.Exists(placed));
        Assert.True(File.Exists(Path.Combine(folders.Outbox, "feedback", "good", Path.GetFileName(placed))));

        using (var again = await web.Client.PostAsync($"/v1/results/{id}/feedback", null))
            await InspectEndpointTests.AssertProblem(again, HttpStatusCode.Conflict, "no longer at");
        string okId = folders.RecordOf("fine.png").GetProperty("id").GetString()!;
        using (var ok = await web.Client.PostAsync($"/v1/results/{okId}/feedback", null))
            await InspectEndpointTests.AssertProblem(ok, HttpStatusCode.Conflict, "judged ok");
        using (var unknown = await web.Client.PostAsync($"/v1/results/{Guid.CreateVersion7():N}/feedback", null))
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using (var badId = await web.Client.PostAsync("/v1/results/..%2F..%2Fetc/feedback", null))
            Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
    }
}
