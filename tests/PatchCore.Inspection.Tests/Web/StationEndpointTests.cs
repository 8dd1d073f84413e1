using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Web;

/// <summary>The station's own endpoints: metrics, health, OpenAPI, the page's shell, the API key, and HTTP off.</summary>
public sealed partial class StationEndpointTests(ITestOutputHelper output)
{
    [Fact]
    public async Task MetricsArePrometheusTextOfTheDaemonsInstruments()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        await using var web = await WebDaemon.StartAsync(folders, output);
        folders.DropText("good.png", "0.1");
        folders.DropText("bad.png", "0.9");
        folders.DropText("words.png", "no image");
        using (await web.InspectAsync("0.2", "uploaded.png")) { }
        await folders.WaitForRecords(4, TimeSpan.FromSeconds(30));
        // health.json counts from the same instruments; once it shows the batch finished, so must /metrics.
        await Eventually.True(() => folders.Health() is var h && h.GetProperty("processed").GetInt64() == 4 && h.GetProperty("backlog").GetInt32() == 0,
            "health.json to count 4 and an empty backlog");

        using var response = await web.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync();
        output.WriteLine(string.Join('\n', text.Split('\n').Where(l => l.StartsWith("patchcore_", StringComparison.Ordinal) && !l.Contains("_bucket", StringComparison.Ordinal))));
        Assert.Equal(2, Sample(text, "patchcore_images_total", ("product", "default"), ("verdict", "ok")));
        Assert.Equal(1, Sample(text, "patchcore_images_total", ("product", "default"), ("verdict", "ng")));
        Assert.Equal(1, Sample(text, "patchcore_images_total", ("product", "default"), ("verdict", "quarantined")));
        Assert.Equal(1, Sample(text, "patchcore_quarantines_total", ("product", "default"), ("reason", "unscorable")));
        Assert.Equal(2, Sample(text, "patchcore_latency_seconds_count", ("product", "default"), ("verdict", "ok")));
        Assert.Equal(3, Sample(text, "patchcore_score_count", ("product", "default")));
        Assert.Equal(3, Sample(text, "patchcore_score_bucket", ("product", "default"), ("le", "1"))); // scores 0.1, 0.2, 0.9
        Assert.Equal(2, Sample(text, "patchcore_score_ratio_bucket", ("product", "default"), ("le", "0.5"))); // over threshold 0.5
        Assert.Equal(1, Sample(text, "patchcore_bank_info", ("bank_id", "A"), ("product", "default")));
        Assert.Equal(1, Sample(text, "patchcore_bank_loaded", ("product", "default")));
        Assert.Equal(0, Sample(text, "patchcore_submissions_pending"));
        Assert.True(Sample(text, "patchcore_process_memory_bytes", ("kind", "resident")) > 10 << 20);
        Assert.Equal(0, Sample(text, "patchcore_backlog"));
        Assert.Contains("# TYPE patchcore_batch_duration_seconds histogram", text);
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", text);
    }

    [Fact]
    public async Task HealthzAnswersWhileReadyzFollowsTheWorkersState()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        await using var web = await WebDaemon.StartAsync(folders, output);
        using (var live = await web.Client.GetAsync("/healthz")) Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        await Eventually.True(() => web.Service<DaemonStatus>().State == "running", "the worker to run");
        using (var ready = await web.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Healthy", body.GetProperty("status").GetString());
            Assert.Equal("A (loaded)", body.GetProperty("banks").GetProperty("default").GetString());
        }
        // The worker's state is what readiness reads: while it reconciles (or stops) the station is not ready.
        web.Service<DaemonStatus>().State = "reconciling";
        using (var notReady = await web.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            Assert.Contains("the worker is reconciling", await notReady.Content.ReadAsStringAsync());
        }
        web.Service<DaemonStatus>().State = "running";
        using (var again = await web.Client.GetAsync("/readyz")) Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheApiAndThePageIsServedUnderItsPolicy()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        await using var web = await WebDaemon.StartAsync(folders, output);
        var document = JsonDocument.Parse(await web.Client.GetStringAsync("/openapi/v1.json")).RootElement;
        var paths = document.GetProperty("paths");
        foreach (string path in new[] { "/v1/inspect", "/v1/results", "/v1/results/{id}", "/v1/results/{id}/heatmap", "/v1/status" })
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is not in the OpenAPI document");
        var inspect = paths.GetProperty("/v1/inspect").GetProperty("post");
        foreach (string status in new[] { "200", "202", "400", "401", "404", "413", "422", "503" })
            Assert.True(inspect.GetProperty("responses").TryGetProperty(status, out _), $"POST /v1/inspect does not document {status}");
        Assert.Contains(inspect.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "product");

        using var page = await web.Client.GetAsync("/");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        string policy = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", policy);
        Assert.Matches("script-src 'sha256-[A-Za-z0-9+/=]+'", policy);
        string html = await page.Content.ReadAsStringAsync();
        Assert.Contains("id=\"results\"", html);
    }

    [Fact]
    public async Task WithAKeyTheApiAndMetricsNeedItWhileHealthAndThePageDoNot()
    {
        const string key = "a-key-of-twenty-chars";
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        await using var web = await WebDaemon.StartAsync(folders, output, $"--Inspection:Http:ApiKey={key}");
        foreach (string path in new[] { "/v1/status", "/v1/results", "/metrics" })
        {
            using (var without = await web.Client.GetAsync(path)) Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
            using (var wrong = await Get(web, path, ("X-Api-Key", key + "x"))) Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            using (var right = await Get(web, path, ("X-Api-Key", key))) Assert.Equal(HttpStatusCode.OK, right.StatusCode);
            using (var bearer = await Get(web, path, ("Authorization", "Bearer " + key))) Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        }
        using (var upload = await web.InspectAsync("0.2", "no-key.png"))
            await InspectEndpointTests.AssertProblem(upload, HttpStatusCode.Unauthorized, "API key");
        Assert.Empty(folders.Records()); // refused before its body was read
        foreach (string open in new[] { "/healthz", "/readyz", "/", "/openapi/v1.json" })
            using (var response = await web.Client.GetAsync(open)) Assert.True(response.StatusCode == HttpStatusCode.OK, $"{open}: {response.StatusCode}");
        Assert.Equal(3 * 2 + 1, web.Daemon.Events(715).Count); // each refusal is logged: 3 paths without and with a wrong key, the upload
    }

    [Theory]
    [InlineData("http://0.0.0.0:8080", "", "Inspection:Http:ApiKey is required")]
    [InlineData("http://plant-station:8080", "", "Inspection:Http:ApiKey is required")]
    [InlineData("http://[::]:8080", "short", "Inspection:Http:ApiKey must be at least 16 characters")]
    [InlineData("ftp://127.0.0.1:21", "", "Inspection:Http:Urls: 'ftp://127.0.0.1:21' must be http:// or https://")]
    [InlineData("http://127.0.0.1:8080/station", "", "has a path")]
    public async Task HttpSettingsThatWouldExposeOrBreakTheStationStopTheStart(string urls, string key, string message)
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        var daemon = new FakeDaemon(folders, output, $"--Inspection:Http:Urls={urls}", $"--Inspection:Http:ApiKey={key}");
        await using (daemon)
        {
            var failure = await Assert.ThrowsAsync<OptionsValidationException>(daemon.StartAsync);
            output.WriteLine(failure.Message);
            Assert.Contains(message, failure.Message);
        }
    }

    [Fact]
    public async Task WithoutUrlsTheDaemonIsThePlainGenericHostAndListensNowhere()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        var plain = Stopwatch.StartNew();
        await using (var daemon = await FakeDaemon.StartAsync(folders, output))
        {
            plain.Stop();
            Assert.IsNotType<WebApplication>(daemon.Host);
            Assert.Null(daemon.Host.Services.GetService<IServer>());
            folders.DropText("still.png", "0.2");
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
        }
        using var webFolders = FakeDaemon.NewFolders("A", threshold: 0.5);
        var withHttp = Stopwatch.StartNew();
        await using (var web = await WebDaemon.StartAsync(webFolders, output))
        {
            withHttp.Stop();
            Assert.IsType<WebApplication>(web.Daemon.Host);
        }
        output.WriteLine($"start (build + StartAsync, fake bank): plain {plain.ElapsedMilliseconds} ms, with HTTP {withHttp.ElapsedMilliseconds} ms");
    }

    private static Task<HttpResponseMessage> Get(WebDaemon web, string path, (string Name, string Value) header)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation(header.Name, header.Value);
        return web.Client.SendAsync(request);
    }

    /// <summary>The value of the sample <paramref name="name"/> with exactly these labels in a Prometheus text exposition.</summary>
    internal static double Sample(string text, string name, params (string Label, string Value)[] labels)
    {
        string wanted = string.Join(",", labels.OrderBy(l => l.Label, StringComparer.Ordinal).Select(l => $"{l.Label}=\"{l.Value}\""));
        foreach (Match m in SampleLine().Matches(text))
        {
            if (m.Groups["name"].Value != name) continue;
            string got = string.Join(",", m.Groups["labels"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
            if (got == wanted) return double.Parse(m.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        throw new Xunit.Sdk.XunitException($"No sample {name}{{{wanted}}} in:\n{text}");
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex SampleLine();
}
