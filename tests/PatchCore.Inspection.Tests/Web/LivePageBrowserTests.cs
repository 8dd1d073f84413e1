using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenQA.Selenium;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Web;

/// <summary>
/// The live page in a real browser (headless chromium) against the real daemon scoring real bottles: images dropped in
/// the inbox and one uploaded appear as rows with the verdicts the bank gives them, the counts add up, the heatmap
/// thumbnails load under the page's security policy, and a row opens the overlay with its score, thresholds and
/// regions. Screenshots go to out/screenshots/ for a person to look at.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class LivePageBrowserTests(BankFixture bank, ITestOutputHelper output)
{
    private const string Key = "browser-test-station-key";

    [BrowserFact("bottle")]
    public async Task ThePageShowsEachImagesVerdictAsItIsInspectedAndOpensItsOverlay()
    {
        using var folders = new DaemonFolders(bank.BankA);
        using var host = InspectionHost.Build(folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=200", "--Inspection:MaxBatchSize=4",
            "--Inspection:Http:Urls=http://127.0.0.1:0", $"--Inspection:Http:ApiKey={Key}"]), logging =>
        {
            logging.ClearProviders();
            logging.AddProvider(new TestOutputLoggerProvider(output));
            logging.AddFilter("Microsoft.AspNetCore", Microsoft.Extensions.Logging.LogLevel.Warning);
        });
        await host.StartAsync();
        try
        {
            var address = new Uri(host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            using var browser = Browser.Start();
            var driver = browser.Driver;
            // The key travels in the fragment only (never sent to the server), and the page drops it from the address.
            driver.Navigate().GoToUrl($"{address}#key={Key}");
            await Eventually.True(() => driver.FindElement(By.Id("state")).Text.Equals("running", StringComparison.OrdinalIgnoreCase), "the page to show the station running");
            Assert.DoesNotContain(Key, driver.Url);

            var sources = bank.Good.Concat(bank.Defects).ToArray();
            var expected = new Dictionary<string, string>();
            for (int i = 0; i < sources.Length; i++)
            {
                string name = $"{Path.GetFileName(Path.GetDirectoryName(sources[i]))}_{Path.GetFileName(sources[i])}";
                expected[name] = bank.ExpectedVerdict(sources[i]);
                folders.Drop(sources[i], name);
            }
            // One more through the API, as a line's controller would send it.
            using (var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) })
            using (var upload = new ByteArrayContent(File.ReadAllBytes(bank.Defects[^1])))
            {
                upload.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                client.DefaultRequestHeaders.Add("X-Api-Key", Key);
                client.DefaultRequestHeaders.Add("X-Original-Name", "line3-serial-0815.png");
                using var answer = await client.PostAsync("/v1/inspect", upload);
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                expected["line3-serial-0815.png"] = bank.ExpectedVerdict(bank.Defects[^1]);
            }

            await Eventually.True(() => driver.FindElements(By.CssSelector("tr.result-row")).Count == expected.Count,
                $"{expected.Count} rows on the page", TimeSpan.FromMinutes(3));
            var records = folders.Records();
            foreach (var row in driver.FindElements(By.CssSelector("tr.result-row")))
            {
                string name = row.FindElement(By.CssSelector("td.name")).Text.Split('\n')[0];
                Assert.True(expected.ContainsKey(name), $"a row for {name}, which was never dropped");
                string verdict = row.GetAttribute("data-verdict")!;
                Assert.Equal(expected[name], verdict);
                Assert.Equal(verdict.ToUpperInvariant(), row.FindElement(By.CssSelector(".pill")).Text);
                var record = records.Single(r => r.GetProperty("originalName").GetString() == name);
                Assert.Equal(record.GetProperty("id").GetString(), row.GetAttribute("data-id"));
            }
            foreach (string verdict in new[] { "ok", "review", "ng", "quarantined" })
            {
                int inJournal = records.Count(r => r.GetProperty("verdict").GetString() == verdict);
                await Eventually.True(() => driver.FindElement(By.Id("count-" + verdict)).Text == inJournal.ToString(CultureInfo.InvariantCulture),
                    $"the {verdict} count to show {inJournal}");
            }
            // Every scored row's heatmap thumbnail loaded (fetched with the key, shown as a blob under the page's policy).
            await Eventually.True(() => browser.Script<bool>(
                    "const t = [...document.querySelectorAll('img.thumb')]; return t.length > 0 && t.every(i => i.complete && i.naturalWidth > 0);"),
                "the heatmap thumbnails to load");
            Assert.Equal(expected.Count, browser.Script<long>("return document.querySelectorAll('img.thumb').length;"));
            string overview = Screenshot(browser, "live-page.png");

            // A defect's row opens its overlay large, with its score against the thresholds and its regions.
            var ng = records.First(r => r.GetProperty("verdict").GetString() == "ng");
            driver.FindElement(By.CssSelector($"tr.result-row[data-id='{ng.GetProperty("id").GetString()}']")).Click();
            await Eventually.True(() => driver.FindElement(By.Id("detail")).Displayed, "the detail to open");
            string facts = driver.FindElement(By.Id("detail-facts")).Text;
            Assert.Contains(ng.GetProperty("score").GetDouble().ToString("F4", CultureInfo.InvariantCulture), facts);
            Assert.Contains(ng.GetProperty("threshold").GetDouble().ToString("F4", CultureInfo.InvariantCulture), facts);
            int regions = ng.GetProperty("regions").GetArrayLength();
            Assert.True(regions > 0, "an ng bottle without a region");
            Assert.Equal(regions, driver.FindElements(By.CssSelector("#detail-regions table tr")).Count - 1);
            await Eventually.True(() => browser.Script<bool>("const i = document.querySelector('#detail-picture img'); return !!i && i.complete && i.naturalWidth > 0;"),
                "the large overlay to load");
            string detail = Screenshot(browser, "live-page-detail.png");
            output.WriteLine($"screenshots: {overview}, {detail}");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private string Screenshot(Browser browser, string name)
    {
        string path = Path.Combine(TestData.RepoRoot, "out", "screenshots", name);
        browser.Screenshot(path);
        output.WriteLine($"screenshot: {path}");
        return path;
    }
}
