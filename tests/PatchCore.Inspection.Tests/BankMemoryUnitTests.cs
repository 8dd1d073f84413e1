using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

/// <summary>
/// The memory policy with fake banks that say what they cost (<see cref="FakeBank.MemoryMb"/>): loaded on first use,
/// the least recently used unloaded above Inspection:BankMemoryBudgetMb, loaded again on demand, never unloaded in the
/// middle of its batch, and never more in memory than the budget allows.
/// </summary>
public sealed class BankMemoryUnitTests(ITestOutputHelper output)
{
    private static readonly string[] Four = ["p1", "p2", "p3", "p4"];

    [Fact]
    public async Task BanksAreLoadedOnUseAndTheLeastRecentlyUsedUnloadedToStayInTheBudget()
    {
        using var folders = new DaemonFolders { DefaultBank = false };
        foreach (string p in Four) FakeBank.Write(folders.ProductBank(p), p.ToUpperInvariant(), threshold: 0.5, memoryMb: 100);
        string[] args = ["--Inspection:BankMemoryBudgetMb=250", .. Four.SelectMany(p => folders.ProductArgs(p))];
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, args))
        {
            // At start every bank was loaded once to prove it usable, and two stay: 4 x 100 MB do not fit in 250.
            Assert.Equal(["P1", "P2", "P3", "P4"], daemon.Loader.Loaded.Select(s => s.BankId));
            Assert.Equal(["P3", "P4"], daemon.Loader.Live.Select(s => s.BankId).Order());
            await Eventually.True(() => Loaded(folders).SequenceEqual(["p3", "p4"]), "health.json to show p3 and p4 loaded");

            // Each image in turn: p1 and p2 come back on demand, p1 a second time is already there, p3 comes back.
            string[] sequence = ["p1", "p2", "p1", "p3"];
            for (int i = 0; i < sequence.Length; i++)
            {
                folders.DropText(sequence[i], $"{i}-{sequence[i]}.png", "0.1");
                await folders.WaitForRecords(i + 1, TimeSpan.FromSeconds(30));
                Assert.True(daemon.Loader.Live.Count <= 2, $"after {sequence[i]}: {daemon.Loader.Live.Count} banks in memory");
            }
            await Eventually.True(() => Loaded(folders).SequenceEqual(["p1", "p3"]), "health.json to show p1 and p3 loaded");

            var loads = daemon.Loader.Loaded.GroupBy(s => s.BankId).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(new Dictionary<string, int> { ["P1"] = 2, ["P2"] = 2, ["P3"] = 2, ["P4"] = 1 }, loads);
            Assert.Equal(3, daemon.Events(407).Count); // on demand: p1, p2, p3
            Assert.Equal(["p1", "p2", "p3"], daemon.Events(407).Select(e => e.GetStructuredStateValue("Product")));
            Assert.Equal(["p1", "p2", "p3", "p4", "p2"], daemon.Events(406).Select(e => e.GetStructuredStateValue("Product")));
            Assert.True(daemon.Loader.MaxLiveMb <= 250, $"{daemon.Loader.MaxLiveMb} MB in memory at once");
            Assert.Equal(2, daemon.Loader.MaxLive);

            var health = folders.Health();
            Assert.Equal(250, health.GetProperty("bankMemoryBudgetMb").GetDouble());
            Assert.Equal(200, health.GetProperty("bankMemoryMb").GetDouble());
            var p1 = health.GetProperty("products").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "p1");
            Assert.Equal("P1", p1.GetProperty("bankId").GetString());
            Assert.Equal(100, p1.GetProperty("memoryMb").GetDouble());
            Assert.Equal(2, p1.GetProperty("loads").GetInt32());
        }

        foreach (var record in folders.Records())
        {
            string product = record.GetProperty("product").GetString()!;
            Assert.Equal(product.ToUpperInvariant(), record.GetProperty("bankId").GetString());
            Assert.Equal("ok", record.GetProperty("verdict").GetString());
        }
        folders.AssertEachExactlyOnce(["0-p1.png", "1-p2.png", "2-p1.png", "3-p3.png"]);
    }

    /// <summary>
    /// One gathered batch holds three products while the budget holds one bank: each product's files go through its
    /// bank in turn, and the bank is not unloaded until its files are recorded (a fake scorer used after it was
    /// disposed throws, and its image would be quarantined or lack its heatmap). A bank larger than the whole budget is
    /// still loaded when its images come.
    /// </summary>
    [Fact]
    public async Task ABatchOfSeveralProductsUsesOneBankAtATimeNeverUnloadedMidBatch()
    {
        using var folders = new DaemonFolders { DefaultBank = false };
        string[] three = ["p1", "p2", "p3"];
        foreach (string p in three) FakeBank.Write(folders.ProductBank(p), p.ToUpperInvariant(), threshold: 0.5, memoryMb: p == "p3" ? 200 : 100);
        var names = new List<string>();
        for (int i = 0; i < 9; i++)
        {
            string p = three[i % 3];
            names.Add($"{i}-{p}.png");
            folders.DropText(p, names[^1], "0.1");
        }
        string[] args = ["--Inspection:BankMemoryBudgetMb=150", "--Inspection:MaxBatchSize=9", "--Inspection:MaxBatchDelayMs=2000",
            .. three.SelectMany(p => folders.ProductArgs(p))];
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, args))
        {
            await folders.WaitForRecords(9, TimeSpan.FromSeconds(30));
            await Eventually.True(() => folders.Health().GetProperty("processed").GetInt64() == 9, "health.json to count 9");
            Assert.Equal(1, daemon.Loader.MaxLive);
            Assert.Equal(0, folders.Health().GetProperty("errors").GetInt64());
            Assert.Single(daemon.Events(408)); // p3 alone is over the budget
            // The files were taken in one batch and scored product by product, each with its own bank.
            Assert.Equal(["P1", "P2", "P3"], daemon.Script.CallsByBank.Select(c => c.BankId).Order());
            Assert.All(daemon.Script.CallsByBank, c => Assert.Equal(3, c.Paths.Length));
        }
        foreach (var record in folders.Records())
        {
            Assert.Equal(record.GetProperty("product").GetString()!.ToUpperInvariant(), record.GetProperty("bankId").GetString());
            Assert.Equal("ok", record.GetProperty("verdict").GetString());
            Assert.True(File.Exists(record.GetProperty("heatmap").GetString()), "no heatmap");
        }
        folders.AssertEachExactlyOnce(names);
    }

    /// <summary>
    /// An unloaded bank whose file is replaced by a bad one keeps its old bank (the daemon's copy of it), and one replaced
    /// by a good one takes the new bank on its next image.
    /// </summary>
    [Fact]
    public async Task AnUnloadedBanksReplacementIsCheckedAtOnceAndABadOneLeavesTheOldInService()
    {
        using var folders = new DaemonFolders { DefaultBank = false };
        string[] two = ["p1", "p2"];
        foreach (string p in two) FakeBank.Write(folders.ProductBank(p), p.ToUpperInvariant(), threshold: 0.5, memoryMb: 100);
        string[] args = ["--Inspection:BankMemoryBudgetMb=150", .. two.SelectMany(p => folders.ProductArgs(p))];
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, args))
        {
            Assert.Equal(["P2"], daemon.Loader.Live.Select(s => s.BankId)); // p1 unloaded

            File.WriteAllText(folders.ProductBank("p1"), "this is not a bank");
            await Eventually.True(() => daemon.Events(403).Count == 1, "p1's bad bank to be refused");
            folders.DropText("p1", "a.png", "0.7");
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
            Assert.Equal("P1", folders.RecordOf("a.png").GetProperty("bankId").GetString());
            Assert.Equal("ng", folders.RecordOf("a.png").GetProperty("verdict").GetString());

            // p1 is loaded now and p2 unloaded: a good replacement of p2 is accepted without being kept in memory.
            FakeBank.Write(folders.ProductBank("p2"), "P2-NEW", threshold: 0.9, memoryMb: 100);
            await Eventually.True(() => daemon.Events(409).Count == 1, "p2's new bank to be accepted");
            Assert.Equal(["P1"], daemon.Loader.Live.Select(s => s.BankId));
            folders.DropText("p2", "b.png", "0.7");
            await folders.WaitForRecords(2, TimeSpan.FromSeconds(30));
            Assert.True(daemon.Loader.MaxLive <= 2, $"{daemon.Loader.MaxLive} banks in memory at once");
        }
        Assert.Equal("P2-NEW", folders.RecordOf("b.png").GetProperty("bankId").GetString());
        Assert.Equal("ok", folders.RecordOf("b.png").GetProperty("verdict").GetString());
        folders.AssertEachExactlyOnce(["a.png", "b.png"]);
    }

    private static string[] Loaded(DaemonFolders folders) =>
        folders.Health().GetProperty("products").EnumerateArray()
            .Where(p => p.GetProperty("loaded").GetBoolean()).Select(p => p.GetProperty("name").GetString()!).Order().ToArray();
}
