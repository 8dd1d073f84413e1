using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

/// <summary>Which bank scores which inbox entry, and where everything that is not a product's image goes, with a fake scorer.</summary>
public sealed class ProductRoutingUnitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task EachProductFolderIsScoredWithItsOwnBankAndKeptApartInTheOutbox()
    {
        using var folders = FakeDaemon.NewFolders("D", threshold: 0.5);
        FakeBank.Write(folders.ProductBank("cap"), "C", threshold: 0.3);
        FakeBank.Write(folders.ProductBank("screw"), "S", threshold: 0.8);
        var daemon = new FakeDaemon(folders, output, [.. folders.ProductArgs("cap"), .. folders.ProductArgs("screw")]);
        using var images = new MetricCollector<long>(daemon.Metrics.Meter, InspectionMetrics.ImagesName);
        using var durations = new MetricCollector<double>(daemon.Metrics.Meter, InspectionMetrics.LatencyName);
        await using (daemon)
        {
            await daemon.StartAsync();
            Assert.True(Directory.Exists(Path.Combine(folders.Inbox, "cap")), "the product's inbox folder was not made at start");
            folders.DropText("root.png", "0.4");
            folders.DropText("cap", "cap.png", "0.4");
            folders.DropText("screw", "screw.png", "0.4");
            folders.DropText("screw", "screw-bad.png", "0.9");
            await folders.WaitForRecords(4, TimeSpan.FromSeconds(30));
            await Eventually.True(() => folders.Health().GetProperty("processed").GetInt64() == 4, "health.json to count 4");

            // Each bank saw only its own product's files.
            foreach (var (bank, paths) in daemon.Script.CallsByBank)
            {
                string folder = bank switch { "D" => folders.Inbox, "C" => Path.Combine(folders.Inbox, "cap"), _ => Path.Combine(folders.Inbox, "screw") };
                Assert.All(paths, p => Assert.Equal(folder, Path.GetDirectoryName(p)));
            }
        }

        (string Name, string Product, string Bank, double Threshold, string Verdict, string Outbox)[] expected =
        [
            ("root.png", "default", "D", 0.5, "ok", folders.Outbox),
            ("cap.png", "cap", "C", 0.3, "ng", Path.Combine(folders.Outbox, "cap")),
            ("screw.png", "screw", "S", 0.8, "ok", Path.Combine(folders.Outbox, "screw")),
            ("screw-bad.png", "screw", "S", 0.8, "ng", Path.Combine(folders.Outbox, "screw")),
        ];
        foreach (var (name, product, bank, threshold, verdict, outbox) in expected)
        {
            var record = folders.RecordOf(name);
            Assert.Equal(product, record.GetProperty("product").GetString());
            Assert.Equal(bank, record.GetProperty("bankId").GetString());
            Assert.Equal(threshold, record.GetProperty("threshold").GetDouble());
            Assert.Equal(verdict, record.GetProperty("verdict").GetString());
            Assert.StartsWith(Path.Combine(outbox, verdict) + Path.DirectorySeparatorChar, record.GetProperty("path").GetString());
            Assert.StartsWith(Path.Combine(outbox, "heatmaps") + Path.DirectorySeparatorChar, record.GetProperty("heatmap").GetString());
            Assert.StartsWith(Path.Combine(outbox, "heatmaps") + Path.DirectorySeparatorChar, record.GetProperty("mask").GetString());
        }
        folders.AssertEachExactlyOnce(expected.Select(e => e.Name).ToArray());

        // The instruments carry the product; health.json lists every product with its bank.
        Assert.Equal(["cap", "default", "screw", "screw"],
            images.GetMeasurementSnapshot().Select(m => (string)m.Tags["product"]!).Order());
        Assert.Equal(["cap", "default", "screw", "screw"],
            durations.GetMeasurementSnapshot().Select(m => (string)m.Tags["product"]!).Order());
        var products = folders.Health().GetProperty("products").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(["cap", "default", "screw"], products.Keys.Order());
        foreach (var (name, bank, processed) in new[] { ("default", "D", 1), ("cap", "C", 1), ("screw", "S", 2) })
        {
            Assert.Equal(bank, products[name].GetProperty("bankId").GetString());
            Assert.True(products[name].GetProperty("loaded").GetBoolean());
            Assert.Equal(processed, products[name].GetProperty("processed").GetInt64());
            Assert.Equal(JsonValueKind.Null, products[name].GetProperty("lastError").ValueKind);
        }
        Assert.Equal("D", folders.Health().GetProperty("bankId").GetString());
    }

    [Fact]
    public async Task FilesOutsideAProductFolderAreQuarantinedWithAReasonNamingTheirFolderAndTheFoldersStay()
    {
        using var folders = FakeDaemon.NewFolders("D", threshold: 0.5);
        FakeBank.Write(folders.ProductBank("cap"), "C", threshold: 0.5);
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, folders.ProductArgs("cap")))
        {
            folders.DropText("zzz", "unknown.png", "0.1");
            folders.DropText(Path.Combine("zzz", "deeper"), "deep.png", "0.1");
            folders.DropText(Path.Combine("cap", "old"), "nested.png", "0.1");
            folders.DropText(Path.Combine("cap", "old", "2024"), "nested-deeper.png", "0.1");
            folders.DropText("cap", "good.png", "0.1");
            // Hidden names are ignored at every depth, and so is everything under a hidden folder.
            folders.DropText(".hidden", "in-hidden.png", "0.1");
            folders.DropText("zzz", ".dot.png", "0.1");
            await folders.WaitForRecords(5, TimeSpan.FromSeconds(30));

            Assert.Equal(["good.png"], daemon.Script.Calls.SelectMany(c => c).Select(Path.GetFileName));
            Assert.Equal(2, daemon.Events(207).Count(e => e.Message.Contains("zzz", StringComparison.Ordinal)));
        }

        (string Name, string Folder, string? Product, string Says)[] refused =
        [
            ("unknown.png", "zzz", null, "in the inbox folder 'zzz/': 'zzz' is not a product (products: cap)"),
            ("deep.png", "zzz/deeper", null, "in the inbox folder 'zzz/deeper/': 'zzz' is not a product (products: cap)"),
            ("nested.png", "cap/old", "cap", "in the inbox folder 'cap/old/': only images directly in Inbox/cap/ are scored for product 'cap'"),
            ("nested-deeper.png", "cap/old/2024", "cap", "in the inbox folder 'cap/old/2024/': only images directly in Inbox/cap/"),
        ];
        foreach (var (name, folder, product, says) in refused)
        {
            var record = folders.RecordOf(name);
            string reason = record.GetProperty("reason").GetString()!;
            output.WriteLine($"{folder}/{name}: {reason}");
            Assert.Equal("quarantined", record.GetProperty("verdict").GetString());
            Assert.Contains(says, reason);
            Assert.Equal(Path.Combine(folders.Inbox, folder, name), record.GetProperty("inboxPath").GetString());
            Assert.Equal(DaemonFolders.Sha256Of("0.1"), record.GetProperty("sha256").GetString());
            Assert.Equal(JsonValueKind.Null, record.GetProperty("bankId").ValueKind); // no bank looked at it
            if (product is null) Assert.False(record.TryGetProperty("product", out _), $"{name} has a product");
            else Assert.Equal(product, record.GetProperty("product").GetString());
            string quarantine = product is null ? Path.Combine(folders.Outbox, "quarantine") : Path.Combine(folders.Outbox, product, "quarantine");
            Assert.Equal(Path.Combine(quarantine, name), record.GetProperty("path").GetString());
            Assert.Contains(reason, File.ReadAllText(record.GetProperty("path").GetString() + ".reason.txt"));
        }
        Assert.Equal("ok", folders.RecordOf("good.png").GetProperty("verdict").GetString());
        folders.AssertEachExactlyOnce([.. refused.Select(r => r.Name), "good.png"]);

        // The folders are left in place, empty (a writer may still use them); the ignored files are untouched.
        foreach (string folder in new[] { "zzz", "zzz/deeper", "cap/old", "cap/old/2024" })
            Assert.True(Directory.Exists(Path.Combine(folders.Inbox, folder)), $"{folder} was removed");
        Assert.Equal("0.1", File.ReadAllText(Path.Combine(folders.Inbox, ".hidden", "in-hidden.png")));
        Assert.Equal("0.1", File.ReadAllText(Path.Combine(folders.Inbox, "zzz", ".dot.png")));
    }

    [Fact]
    public async Task WithoutADefaultProductAnImageDirectlyInTheInboxIsQuarantinedSayingSo()
    {
        using var folders = new DaemonFolders { DefaultBank = false };
        FakeBank.Write(folders.ProductBank("cap"), "C", threshold: 0.5);
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, folders.ProductArgs("cap")))
        {
            folders.DropText("root.png", "0.1");
            folders.DropText("cap", "cap.png", "0.9");
            await folders.WaitForRecords(2, TimeSpan.FromSeconds(30));
            await Eventually.True(() => folders.Health().GetProperty("processed").GetInt64() == 2, "health.json to count 2");
            var health = folders.Health();
            Assert.Equal(JsonValueKind.Null, health.GetProperty("bankId").ValueKind);
            Assert.Equal(["cap"], health.GetProperty("products").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        }

        var root = folders.RecordOf("root.png");
        Assert.Equal("quarantined", root.GetProperty("verdict").GetString());
        Assert.Equal("directly in the inbox, but there is no default product (Inspection:Bank is not set): images go in Inbox/<product>/ (products: cap)",
            root.GetProperty("reason").GetString());
        Assert.False(root.TryGetProperty("product", out _));
        Assert.Equal(Path.Combine(folders.Outbox, "quarantine", "root.png"), root.GetProperty("path").GetString());
        Assert.Equal("ng", folders.RecordOf("cap.png").GetProperty("verdict").GetString());
        folders.AssertEachExactlyOnce(["root.png", "cap.png"]);
    }

    /// <summary>
    /// Links to a file, to a folder, dangling, and to a FIFO: a daemon that opened any of them through the link would
    /// hang on the FIFO (an open for reading waits for a writer) and never record it. A FIFO directly in the inbox is
    /// an empty entry, quarantined without being opened.
    /// </summary>
    [Fact]
    public async Task LinksAreQuarantinedAsLinksNeverFollowedAndTheirTargetsAreUntouched()
    {
        using var folders = FakeDaemon.NewFolders("D", threshold: 0.5);
        FakeBank.Write(folders.ProductBank("cap"), "C", threshold: 0.5);
        string elsewhere = Directory.CreateDirectory(Path.Combine(folders.Root, "elsewhere")).FullName;
        string secret = Path.Combine(elsewhere, "secret.png");
        File.WriteAllText(secret, "0.9");
        string targetFolder = Directory.CreateDirectory(Path.Combine(elsewhere, "folder")).FullName;
        File.WriteAllText(Path.Combine(targetFolder, "inner.png"), "0.9");
        string pipe = Path.Combine(elsewhere, "pipe");
        MakeFifo(pipe);
        Directory.CreateDirectory(Path.Combine(folders.Inbox, "cap"));
        var links = new (string Place, string Target)[]
        {
            ("to-file.png", secret),
            ("to-folder", targetFolder),
            ("dangling.png", Path.Combine(elsewhere, "nothing-here.png")),
            ("to-fifo.png", pipe),
            ("cap/to-file.png", secret),
            ("cap/to-folder", targetFolder),
        };
        foreach (var (place, target) in links) File.CreateSymbolicLink(Path.Combine(folders.Inbox, place), target);
        MakeFifo(Path.Combine(folders.Inbox, "fifo.png"));
        string[] names = ["to-file.png", "to-folder", "dangling.png", "to-fifo.png", "fifo.png", "real.png"];

        await using (var daemon = await FakeDaemon.StartAsync(folders, output, folders.ProductArgs("cap")))
        {
            folders.DropText("real.png", "0.1");
            await folders.WaitForRecords(links.Length + 2, TimeSpan.FromSeconds(30));
            Assert.Equal(["real.png"], daemon.Script.Calls.SelectMany(c => c).Select(Path.GetFileName));
        }

        var records = folders.Records();
        Assert.Equal(links.Length + 2, records.Count);
        foreach (var (place, target) in links)
        {
            var record = records.Single(r => r.GetProperty("inboxPath").GetString() == Path.Combine(folders.Inbox, place));
            string reason = record.GetProperty("reason").GetString()!;
            output.WriteLine($"{place}: {reason}");
            Assert.Equal("quarantined", record.GetProperty("verdict").GetString());
            Assert.Equal($"a symbolic link (to {target}): links in the inbox are never followed; the link itself is quarantined and its target left untouched", reason);
            Assert.Equal(JsonValueKind.Null, record.GetProperty("sha256").ValueKind);
            Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(target), record.GetProperty("size").GetInt64());
            string quarantine = place.StartsWith("cap/", StringComparison.Ordinal) ? Path.Combine(folders.Outbox, "cap", "quarantine") : Path.Combine(folders.Outbox, "quarantine");
            string placed = record.GetProperty("path").GetString()!;
            Assert.Equal(quarantine, Path.GetDirectoryName(placed));
            Assert.Equal(target, new FileInfo(placed).LinkTarget); // the link itself, moved as it was
            Assert.False(Directory.Exists(Path.Combine(folders.Inbox, place)) || File.Exists(Path.Combine(folders.Inbox, place)));
        }
        var fifo = records.Single(r => r.GetProperty("originalName").GetString() == "fifo.png");
        Assert.Equal("zero-byte file", fifo.GetProperty("reason").GetString());

        // The targets are where they were, as they were; nothing was recorded of what lies behind a link.
        Assert.Equal("0.9", File.ReadAllText(secret));
        Assert.Equal("0.9", File.ReadAllText(Path.Combine(targetFolder, "inner.png")));
        Assert.True(File.Exists(pipe));
        Assert.DoesNotContain(records, r => r.GetProperty("originalName").GetString() is "inner.png" or "secret.png");
        Assert.Equal(names.Length + 2, folders.PlacedImages().Length); // the four links at the root, two in cap/, the FIFO, real.png
        Assert.Empty(folders.InboxImages());
        Assert.Empty(folders.StagedFiles());
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }
}
