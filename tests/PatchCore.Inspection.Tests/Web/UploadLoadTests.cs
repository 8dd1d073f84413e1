using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Web;

/// <summary>
/// The real daemon as a child process (as systemd runs it), scoring real bottles, under abuse and then under load on
/// loopback: a bounded number of requests, every one answered with its record or a clear error, every record in the
/// journal exactly once, and the figures printed (requests/s, latency, resident memory), never asserted as timings.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class UploadLoadTests(BankFixture bank, ITestOutputHelper output)
{
    private const int Requests = 500, Clients = 8, FolderImages = 100;
    private const string Key = "load-test-station-key";

    [DataFact("bottle")]
    public async Task AbuseGetsClear4xxThenFiveHundredUploadsFromEightClientsBesideTheFolderIntakeEachGetOneRecord()
    {
        using var folders = new DaemonFolders(bank.BankA);
        var (daemon, address) = await StationProcess.StartAsync(folders, [.. bank.ThresholdArgs, "--Inspection:SettleMs=200", $"--Inspection:Http:ApiKey={Key}"]);
        using var _ = daemon;
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Add("X-Api-Key", Key);
        byte[][] images = Directory.GetFiles(Path.Combine(TestData.RepoRoot, "samples", "bottle", "test"), "*.png").Order(StringComparer.Ordinal)
            .Select(File.ReadAllBytes).ToArray();

        // Abuse: each a clear 4xx (422 with a kept quarantine record for what is not an image), and the daemon goes on.
        var kept = new List<string>();
        Assert.Equal(HttpStatusCode.BadRequest, await Status(client, [], "empty.png"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, await Status(client, "this is not an image"u8.ToArray(), "text.png"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, await Status(client, images[0][..2000], "truncated.png"));
        kept.AddRange(["text.png", "truncated.png"]);
        Assert.StartsWith("HTTP/1.1 413", await InspectEndpointTests.RawPostAsync(address, 1L << 30, 8192, Key));
        Assert.Equal(HttpStatusCode.NotFound, await Status(client, images[0], "x.png", "?product=../inbox"));
        using (var wrongKey = new HttpClient { BaseAddress = address })
        {
            wrongKey.DefaultRequestHeaders.Add("X-Api-Key", Key + "-not");
            using var content = new ByteArrayContent(images[0]);
            using var refused = await wrongKey.PostAsync("/v1/inspect", content);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        foreach (string trick in new[] { "..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e%2fresults.jsonl", "0" + new string('f', 31) + "%00" })
        {
            using var response = await client.GetAsync($"/v1/results/{trick}/heatmap");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
        await folders.WaitForRecords(kept.Count, TimeSpan.FromMinutes(1), daemon);
        var outsideTheOutbox = InspectEndpointTests.FilesOutsideTheOutbox(folders);

        // Load: 8 clients send 500 uploads while files keep arriving in the inbox.
        var rss = new ConcurrentQueue<(double Seconds, double Mib)>();
        var clock = Stopwatch.StartNew();
        using var stopSampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                rss.Enqueue((clock.Elapsed.TotalSeconds, daemon.Memory().Rss));
                await Task.Delay(250);
            }
        });
        var folderNames = Enumerable.Range(0, FolderImages).Select(i => $"folder-{i:D4}.png").ToArray();
        string draftSource = Path.Combine(folders.Root, "source.png");
        File.WriteAllBytes(draftSource, images[1]);
        var dropper = Task.Run(async () =>
        {
            foreach (string name in folderNames)
            {
                folders.Drop(draftSource, name);
                await Task.Delay(150);
            }
        });
        var answers = new ConcurrentBag<(string Name, HttpStatusCode Status, string Body, double Ms, bool RetryAfter)>();
        int next = -1;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            for (int i = Interlocked.Increment(ref next); i < Requests; i = Interlocked.Increment(ref next))
            {
                string name = $"http-{i:D4}.png";
                using var content = new ByteArrayContent(images[i % images.Length]);
                content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/inspect") { Content = content };
                request.Headers.Add("X-Original-Name", name);
                long started = Stopwatch.GetTimestamp();
                using var response = await client.SendAsync(request);
                string body = await response.Content.ReadAsStringAsync();
                answers.Add((name, response.StatusCode, body, Stopwatch.GetElapsedTime(started).TotalMilliseconds, response.Headers.RetryAfter is not null));
            }
        })));
        double loadSeconds = clock.Elapsed.TotalSeconds;
        await dropper;

        // Every request has its record (200, 422, or 202 with its id for later) or a clear error (503 with Retry-After).
        var unexpected = answers.Where(a => a.Status is not (HttpStatusCode.OK or HttpStatusCode.UnprocessableEntity or HttpStatusCode.Accepted)
            && !(a.Status == HttpStatusCode.ServiceUnavailable && a.RetryAfter)).ToArray();
        Assert.True(unexpected.Length == 0, "unexpected answers: " + string.Join("; ", unexpected.Take(5).Select(a => $"{a.Name} {(int)a.Status} {a.Body}")));
        var accepted = answers.Where(a => a.Status != HttpStatusCode.ServiceUnavailable).ToArray();
        var expected = kept.Concat(folderNames).Concat(accepted.Select(a => a.Name)).ToArray();
        var records = await folders.WaitForRecords(expected.Length, TimeSpan.FromMinutes(5), daemon);
        await Task.Delay(500); // the last batch's moves
        stopSampling.Cancel();
        await sampler;

        var lines = File.ReadAllLines(folders.ResultsFile);
        Assert.Equal(lines.Length, lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()).Distinct().Count());
        foreach (var answer in accepted)
        {
            string id = JsonDocument.Parse(answer.Body).RootElement.GetProperty("id").GetString()!;
            var mine = records.Where(r => r.GetProperty("id").GetString() == id).ToArray();
            Assert.True(mine.Length == 1, $"{answer.Name}: {mine.Length} records with id {id}");
            Assert.Equal(answer.Name, mine[0].GetProperty("originalName").GetString());
            if (answer.Status != HttpStatusCode.Accepted) Assert.Contains(answer.Body, lines); // the answer is the journal's line
        }
        folders.AssertEachExactlyOnce(expected);
        Assert.False(daemon.HasExited, "the daemon stopped under load");
        Assert.Equal(outsideTheOutbox, InspectEndpointTests.FilesOutsideTheOutbox(folders).Where(f => f != draftSource));

        var latencies = accepted.Select(a => a.Ms).Order().ToArray();
        var samples = rss.ToArray();
        double Window(double from, double to) => samples.Where(s => s.Seconds >= loadSeconds * from && s.Seconds <= loadSeconds * to).Select(s => s.Mib).DefaultIfEmpty(0).Max();
        double middle = Window(0.4, 0.6), late = Window(0.8, 1.0);
        var (_, peak) = daemon.Memory();
        output.WriteLine("resident MiB by tenth of the run: " + string.Join(" ", Enumerable.Range(0, 10).Select(t => Window(t / 10.0, (t + 1) / 10.0).ToString("F0"))));
        output.WriteLine($"{Requests} uploads from {Clients} clients beside {FolderImages} folder images: {loadSeconds:F1} s, {Requests / loadSeconds:F1} requests/s, " +
                         $"latency p50 {Percentile(latencies, 0.5):F0} ms, p95 {Percentile(latencies, 0.95):F0} ms, max {latencies[^1]:F0} ms; " +
                         $"answers {string.Join(", ", answers.GroupBy(a => (int)a.Status).OrderBy(g => g.Key).Select(g => $"{g.Key} x{g.Count()}"))}; " +
                         $"resident memory: {middle:F0} MiB in the middle fifth, {late:F0} MiB in the last fifth, peak {peak:F0} MiB");
        // Memory is a figure to read, not an assertion (the project measures speed and memory, it does not assert them):
        // once warmed up (the scorer's native buffers for each batch size, the allocator's per-thread arenas, the GC's
        // budget) it levels off; on a loaded machine the level comes later and higher (README, "The web surface").

        daemon.Terminate();
        Assert.True(daemon.WaitForExit(TimeSpan.FromMinutes(1)), "no exit after SIGTERM");
        Assert.Equal(0, daemon.ExitCode);
    }

    private static async Task<HttpStatusCode> Status(HttpClient client, byte[] body, string name, string query = "")
    {
        using var content = new ByteArrayContent(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/inspect" + query) { Content = content };
        request.Headers.Add("X-Original-Name", name);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
