using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Web;

/// <summary>POST /v1/inspect with the fake scorer: the upload goes through the daemon's own batches and journal.</summary>
public sealed class InspectEndpointTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AnUploadIsScoredInTheDaemonsBatchAndAnsweredWithItsJournalRecord()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        FakeBank.Write(folders.ProductBank("cap"), "C", threshold: 0.3);
        await using var web = await WebDaemon.StartAsync(folders, output, folders.ProductArgs("cap"));
        folders.DropText("camera.png", "0.1"); // a folder image at the same time

        using var ok = await web.InspectAsync("0.2", "part 17.png", "", ("X-Meta-Serial", "A-123"), ("X-Meta-Line", "3"));
        using var ng = await web.InspectAsync("0.4", name: null, "?product=cap&name=" + Uri.EscapeDataString("kapsel-ü.png"));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ng.StatusCode);
        await folders.WaitForRecords(3, TimeSpan.FromSeconds(30));
        var lines = File.ReadAllLines(folders.ResultsFile);
        string okBody = await ok.Content.ReadAsStringAsync(), ngBody = await ng.Content.ReadAsStringAsync();
        // The answer is the journal's line itself, and the journal holds it once.
        Assert.Single(lines, l => l == okBody);
        Assert.Single(lines, l => l == ngBody);

        var okRecord = JsonDocument.Parse(okBody).RootElement;
        Assert.Equal("ok", okRecord.GetProperty("verdict").GetString());
        Assert.Equal("part 17.png", okRecord.GetProperty("originalName").GetString());
        Assert.Equal("default", okRecord.GetProperty("product").GetString());
        Assert.Equal("http", okRecord.GetProperty("submission").GetProperty("source").GetString());
        Assert.Equal("A-123", okRecord.GetProperty("submission").GetProperty("metadata").GetProperty("serial").GetString());
        Assert.Equal("3", okRecord.GetProperty("submission").GetProperty("metadata").GetProperty("line").GetString());
        Assert.Equal($"/v1/results/{okRecord.GetProperty("id").GetString()}", ok.Headers.Location!.OriginalString);
        Assert.Equal(Path.Combine(folders.Outbox, "ok"), Path.GetDirectoryName(Path.GetDirectoryName(okRecord.GetProperty("path").GetString())));
        Assert.Equal("part 17.png", Path.GetFileName(okRecord.GetProperty("path").GetString()));
        Assert.Equal(DaemonFolders.Sha256Of("0.2"), okRecord.GetProperty("sha256").GetString());

        var ngRecord = JsonDocument.Parse(ngBody).RootElement;
        Assert.Equal("ng", ngRecord.GetProperty("verdict").GetString()); // the product's own bank: threshold 0.3
        Assert.Equal("cap", ngRecord.GetProperty("product").GetString());
        Assert.Equal("kapsel-ü.png", ngRecord.GetProperty("originalName").GetString());
        Assert.StartsWith(Path.Combine(folders.Outbox, "cap", "ng") + Path.DirectorySeparatorChar, ngRecord.GetProperty("path").GetString());

        await Eventually.True(() => folders.InboxImages().Length == 0, "the inbox to empty");
        folders.AssertEachExactlyOnce(["camera.png", "part 17.png", "kapsel-ü.png"]);
        Assert.Empty(Directory.GetFiles(Path.Combine(folders.Inbox, ".inspection", "uploads"))); // tickets go once recorded
        Assert.Equal(0, web.Service<ImageSubmissions>().Pending);
    }

    [Fact]
    public async Task BadInputGetsAClear4xxNothingIsKeptOutsideTheOutboxAndTheDaemonGoesOn()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        await using var web = await WebDaemon.StartAsync(folders, output, "--Inspection:MaxFileBytes=1000");
        var before = FilesOutsideTheOutbox(folders);

        using (var empty = await web.InspectAsync("", "empty.png"))
            await AssertProblem(empty, HttpStatusCode.BadRequest, "empty");
        using (var unknown = await web.InspectAsync("0.2", "x.png", "?product=screw"))
            await AssertProblem(unknown, HttpStatusCode.NotFound, "no product 'screw'");
        using (var climbing = await web.InspectAsync("0.2", "x.png", "?product=" + Uri.EscapeDataString("../../etc")))
            await AssertProblem(climbing, HttpStatusCode.NotFound, "no product");
        using (var badMeta = await web.InspectAsync("0.2", "x.png", "", ("X-Meta-bad~key", "1")))
            Assert.True(badMeta.StatusCode is HttpStatusCode.BadRequest, $"bad metadata: {badMeta.StatusCode}");
        // Over Inspection:MaxFileBytes without a Content-Length (chunked): counted while it streams, refused, nothing kept.
        var chunked = new HttpRequestMessage(HttpMethod.Post, "/v1/inspect") { Content = new StreamContent(new MemoryStream(new byte[5000])) };
        chunked.Headers.TransferEncodingChunked = true;
        using (var tooLarge = await web.Client.SendAsync(chunked))
            await AssertProblem(tooLarge, HttpStatusCode.RequestEntityTooLarge, "MaxFileBytes");
        // A declared 1 GB body, of which a little is sent: refused from its headers, without reading it.
        string answer = await RawPostAsync(web.Address, contentLength: 1L << 30, send: 4096);
        Assert.StartsWith("HTTP/1.1 413", answer);
        // Not an image: scored, quarantined with the reason, and that record is the answer (422).
        using var notImage = await web.InspectAsync("this is no image", "label.png");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, notImage.StatusCode);
        var quarantined = JsonDocument.Parse(await notImage.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("quarantined", quarantined.GetProperty("verdict").GetString());
        Assert.Contains("not an image", quarantined.GetProperty("reason").GetString());
        Assert.True(File.Exists(quarantined.GetProperty("path").GetString() + ".reason.txt"));

        using (var good = await web.InspectAsync("0.7", "after.png"))
            Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        folders.AssertEachExactlyOnce(["label.png", "after.png"]);
        Assert.Equal(before, FilesOutsideTheOutbox(folders));
    }

    [Fact]
    public async Task WhenMaxPendingUploadsWaitTheNextIsAnswered503WithRetryAfter()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        using var scoring = new ManualResetEventSlim(false);
        await using var web = await WebDaemon.StartAsync(folders, output, "--Inspection:Http:MaxPending=1");
        web.Daemon.Script.BeforeScoring = _ => scoring.Wait(TimeSpan.FromSeconds(30));

        var first = web.InspectAsync("0.1", "first.png");
        await Eventually.True(() => web.Service<ImageSubmissions>().Pending == 1, "the first upload to wait for its record");
        using (var refused = await web.InspectAsync("0.1", "second.png"))
        {
            await AssertProblem(refused, HttpStatusCode.ServiceUnavailable, "MaxPending");
            Assert.NotNull(refused.Headers.RetryAfter?.Delta);
            Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
        }
        scoring.Set();
        using (var answered = await first) Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        using (var third = await web.InspectAsync("0.1", "third.png")) Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        folders.AssertEachExactlyOnce(["first.png", "third.png"]); // the refused one was never kept
    }

    [Fact]
    public async Task AnUploadWithoutARecordInTimeIsAnswered202AndItsRecordComesLaterUnderItsId()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        using var scoring = new ManualResetEventSlim(false);
        await using var web = await WebDaemon.StartAsync(folders, output, "--Inspection:Http:RecordTimeoutMs=300");
        web.Daemon.Script.BeforeScoring = _ => scoring.Wait(TimeSpan.FromSeconds(30));

        using var accepted = await web.InspectAsync("0.9", "slow.png");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var queued = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement;
        string id = queued.GetProperty("id").GetString()!;
        Assert.Equal("queued", queued.GetProperty("status").GetString());
        Assert.Equal($"/v1/results/{id}", accepted.Headers.Location!.OriginalString);
        using (var notYet = await web.Client.GetAsync($"/v1/results/{id}")) Assert.Equal(HttpStatusCode.NotFound, notYet.StatusCode);

        scoring.Set();
        await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
        Assert.Equal(id, folders.RecordOf("slow.png").GetProperty("id").GetString());
        using var later = await web.Client.GetAsync($"/v1/results/{id}");
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        Assert.Equal("ng", JsonDocument.Parse(await later.Content.ReadAsStringAsync()).RootElement.GetProperty("verdict").GetString());
    }

    [Fact]
    public void OriginalNamesAreReducedToAPlainFileName()
    {
        Assert.Equal("passwd", ImageSubmissions.PlainName("../../etc/passwd"));
        Assert.Equal("x.png", ImageSubmissions.PlainName(@"C:\cam\x.png"));
        Assert.Equal("hidden.png", ImageSubmissions.PlainName("...hidden.png"));
        Assert.Equal("ab.png", ImageSubmissions.PlainName("a\u0000b\n.png"));
        Assert.Equal("upload", ImageSubmissions.PlainName("  /  "));
        Assert.Equal("upload", ImageSubmissions.PlainName(null));
        string longName = ImageSubmissions.PlainName(new string('n', 500) + ".png");
        Assert.Equal(200, longName.Length);
        Assert.EndsWith(".png", longName);
    }

    /// <summary>Every file under the test's folders except the outbox (links not followed): what a request could have written anywhere else.</summary>
    internal static string[] FilesOutsideTheOutbox(DaemonFolders folders) =>
        Directory.EnumerateFiles(folders.Root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Where(f => !f.StartsWith(folders.Outbox + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToArray();

    internal static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
    }

    /// <summary>
    /// A POST written by hand on a socket: headers declaring <paramref name="contentLength"/> bytes, then only
    /// <paramref name="send"/> of them; returns what the server answers (it must answer without the rest).
    /// </summary>
    internal static async Task<string> RawPostAsync(Uri address, long contentLength, int send, string? key = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        var stream = client.GetStream();
        string keyHeader = key is null ? "" : $"X-Api-Key: {key}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /v1/inspect HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: image/png\r\n{keyHeader}Content-Length: {contentLength}\r\n\r\n"));
        await stream.WriteAsync(new byte[send]);
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int read = await stream.ReadAsync(buffer, timeout.Token);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }
}
