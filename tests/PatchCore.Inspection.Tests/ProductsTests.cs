using System.Globalization;
using System.Text.Json;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

/// <summary>Several products on one daemon with real banks and real bottle images.</summary>
[Collection(DaemonCollection.Name)]
public sealed class ProductsTests(BankFixture bank, ITestOutputHelper output)
{
    [DataFact("bottle")]
    public async Task TwoProductsAreScoredEachWithItsOwnBankSharingOneBackbone()
    {
        Assert.NotNull(bank.ThresholdsB.Ng); // bank B is calibrated as A is: the daemon needs no threshold for it
        using var folders = new DaemonFolders { DefaultBank = false };
        File.Copy(bank.BankA, folders.ProductBank("a"));
        File.Copy(bank.BankB, folders.ProductBank("b"));
        string[] args = folders.Args([.. bank.ThresholdArgs, .. folders.ProductArgs("a"), .. folders.ProductArgs("b"), "--Inspection:SettleMs=200"]);
        (string Product, string Source, string Name)[] drops =
        [
            ("a", bank.Good[0], "a-good.png"), ("a", bank.Defects[0], "a-defect.png"),
            ("b", bank.Good[1], "b-good.png"), ("b", bank.Defects[1], "b-defect.png"),
        ];

        await using (await InProcessDaemon.StartAsync(args, output))
        {
            foreach (var (product, source, name) in drops) folders.Drop(product, source, name);
            await folders.WaitForRecords(drops.Length, TimeSpan.FromMinutes(2));
            await Eventually.True(() => folders.Health().GetProperty("processed").GetInt64() == drops.Length, "health.json to count the images", TimeSpan.FromMinutes(1));
            var health = folders.Health();
            // Both banks are in memory, on one backbone: they were built with the same network and weights.
            Assert.Equal(1, health.GetProperty("backbones").GetInt32());
            var products = health.GetProperty("products").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
            Assert.Equal(bank.BankAId, products["a"].GetProperty("bankId").GetString());
            Assert.Equal(bank.BankBId, products["b"].GetProperty("bankId").GetString());
            Assert.All(products.Values, p => Assert.True(p.GetProperty("loaded").GetBoolean()));
            Assert.All(products.Values, p => Assert.True(p.GetProperty("memoryMb").GetDouble() > 0));
        }

        foreach (var (product, source, name) in drops)
        {
            var record = folders.RecordOf(name);
            bool isA = product == "a";
            string verdict = isA ? bank.ExpectedVerdict(source) : bank.ExpectedVerdictB(source);
            output.WriteLine($"{product}/{name}: score {record.GetProperty("score").GetDouble():F4}, {record.GetProperty("verdict").GetString()}");
            Assert.Equal(product, record.GetProperty("product").GetString());
            Assert.Equal(isA ? bank.BankAId : bank.BankBId, record.GetProperty("bankId").GetString());
            Assert.Equal(verdict, record.GetProperty("verdict").GetString());
            Assert.Equal(isA ? bank.Scores[source] : bank.ScoresB[source], record.GetProperty("score").GetDouble(), 4);
            Assert.Equal(isA ? bank.Threshold : bank.ThresholdsB.Ng!.Value, record.GetProperty("threshold").GetDouble(), 9);
            Assert.StartsWith(Path.Combine(folders.Outbox, product, verdict) + Path.DirectorySeparatorChar, record.GetProperty("path").GetString());
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(record.GetProperty("heatmap").GetString()!)[..4]);
        }
        // The two banks do not give the same scores: each image really went through its own product's bank.
        Assert.NotEqual(bank.Scores[bank.Good[1]], bank.ScoresB[bank.Good[1]], 6);
        folders.AssertEachExactlyOnce(drops.Select(d => d.Name).ToArray());
    }

    /// <summary>
    /// The figure the memory policy is about: the daemon's resident memory with 1 product and with 10 (10 copies of the
    /// small bottle bank A, 2 images scored per product), and with 10 under a budget of about 3 banks. Printed, never
    /// asserted; the structural facts are: one backbone for all, every bank loaded without a budget, and no more
    /// loaded than the budget holds with one.
    /// </summary>
    [DataFact("bottle")]
    public async Task TheDaemonsMemoryWithOneAndTenProductsIsPrinted()
    {
        var one = await RunProducts(1, budgetMb: null);
        var ten = await RunProducts(10, budgetMb: null);
        int budget = (int)Math.Ceiling(3 * ten.BankMb);
        var tenInBudget = await RunProducts(10, budget);

        double vectorMb = bank.BankAVectorBytes / (double)(1 << 20);
        foreach (var (label, run) in new[] { ("1 product", one), ("10 products", ten), ($"10 products, budget {budget} MB", tenInBudget) })
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label}: RSS {run.IdleRss:F0} MiB with the banks loaded before any image, {run.Rss:F0} MiB after {run.Images} images, peak {run.Peak:F0} MiB; " +
                $"{run.Loaded} banks loaded (estimated {run.LoadedMb:F1} MB), {run.Backbones} backbone"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bank A: {vectorMb:F1} MiB of vectors; RSS per extra loaded bank {(ten.IdleRss - one.IdleRss) / 9:F1} MiB before images, " +
            $"{(ten.Rss - one.Rss) / 9:F1} MiB after, i.e. {(ten.IdleRss - one.IdleRss) / 9 / vectorMb:F2} x its vectors (the daemon estimates {DetectorBankLoaderFactor:F2} x)"));

        Assert.All(new[] { one, ten, tenInBudget }, run => Assert.Equal(1, run.Backbones));
        Assert.Equal(1, one.Loaded);
        Assert.Equal(10, ten.Loaded);
        Assert.InRange(tenInBudget.Loaded, 1, 3);
        Assert.True(tenInBudget.LoadedMb <= budget, $"{tenInBudget.LoadedMb} MB loaded under a budget of {budget} MB");
    }

    private static double DetectorBankLoaderFactor => Banks.DetectorBankLoader.MemoryFactor;

    private sealed record Run(int Images, double IdleRss, double Rss, double Peak, int Loaded, double LoadedMb, double BankMb, int Backbones);

    private async Task<Run> RunProducts(int count, int? budgetMb)
    {
        using var folders = new DaemonFolders { DefaultBank = false };
        var products = Enumerable.Range(0, count).Select(i => $"p{i}").ToArray();
        foreach (string product in products) File.Copy(bank.BankA, folders.ProductBank(product));
        string[] args = folders.Args(
        [
            .. bank.ThresholdArgs, "--Inspection:SettleMs=200", "--Inspection:MaxBatchSize=8",
            .. budgetMb is { } mb ? [$"--Inspection:BankMemoryBudgetMb={mb}"] : Array.Empty<string>(),
            .. products.SelectMany(p => folders.ProductArgs(p)),
        ]);
        using var daemon = DaemonProcess.Start(args);
        await daemon.WaitUntilWatching(TimeSpan.FromMinutes(2)); // every bank checked, the inbox watched
        await Task.Delay(1000);
        var (idleRss, _) = daemon.Memory();

        var names = new List<string>();
        foreach (string product in products)
            foreach (var (source, i) in new[] { bank.Good[0], bank.Defects[0] }.Select((s, i) => (s, i)))
            {
                names.Add($"{product}-{i}.png");
                folders.Drop(product, source, names[^1]);
            }
        await folders.WaitForRecords(names.Count, TimeSpan.FromMinutes(4), daemon);
        await Eventually.True(() => folders.Health().GetProperty("processed").GetInt64() == names.Count, "health.json to count the images", TimeSpan.FromMinutes(1));
        var (rss, peak) = daemon.Memory();
        var health = folders.Health();
        var loaded = health.GetProperty("products").EnumerateArray().Where(p => p.GetProperty("loaded").GetBoolean()).ToArray();
        var run = new Run(names.Count, idleRss, rss, peak, loaded.Length, health.GetProperty("bankMemoryMb").GetDouble(),
            health.GetProperty("products")[0].GetProperty("memoryMb").GetDouble(), health.GetProperty("backbones").GetInt32());

        daemon.Terminate();
        Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(60)), "no exit after SIGTERM");
        Assert.Equal(0, daemon.ExitCode);
        foreach (var record in folders.Records())
            Assert.Equal(bank.BankAId, record.GetProperty("bankId").GetString());
        Assert.All(folders.Records(), r => Assert.Equal(JsonValueKind.String, r.GetProperty("product").ValueKind));
        folders.AssertEachExactlyOnce(names);
        return run;
    }
}
