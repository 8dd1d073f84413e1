using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

/// <summary>Each product's bank hot-reloads on its own, with fake bank files.</summary>
public sealed class ProductReloadUnitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task EachProductReloadsOnItsOwnAndABadBankForOneLeavesTheOthersWorking()
    {
        using var folders = FakeDaemon.NewFolders("D", threshold: 0.5);
        FakeBank.Write(folders.ProductBank("cap"), "C", threshold: 0.5);
        FakeBank.Write(folders.ProductBank("screw"), "S", threshold: 0.5);
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, [.. folders.ProductArgs("cap"), .. folders.ProductArgs("screw")]))
        {
            var loadedAtStart = daemon.Loader.Loaded.ToDictionary(s => s.BankId);

            FakeBank.Write(folders.ProductBank("cap"), "C2", threshold: 0.9);
            await Eventually.True(() => daemon.Events(405).Count == 1, "cap's new bank to be loaded");
            Assert.Equal("cap", daemon.Events(405)[0].GetStructuredStateValue("Product"));
            folders.DropText("cap", "cap.png", "0.7");
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
            Assert.True(loadedAtStart["C"].IsDisposed, "cap's old bank was not disposed after the switch");
            Assert.False(loadedAtStart["S"].IsDisposed);
            Assert.False(loadedAtStart["D"].IsDisposed);

            File.WriteAllText(folders.ProductBank("screw") + ".new", "this is not a bank");
            File.Move(folders.ProductBank("screw") + ".new", folders.ProductBank("screw"), overwrite: true);
            await Eventually.True(() => daemon.Events(403).Count == 1, "screw's bad bank to be refused");
            Assert.Equal("screw", daemon.Events(403)[0].GetStructuredStateValue("Product"));
            await Eventually.True(() => Product(folders, "screw").GetProperty("lastError").GetString() is { } error &&
                error.StartsWith($"Product 'screw': Refused the new bank at {folders.ProductBank("screw")}: ", StringComparison.Ordinal) &&
                error.EndsWith("; keeping bank S", StringComparison.Ordinal), "health.json to report screw's refusal");
            folders.DropText("screw", "screw.png", "0.7");
            folders.DropText("cap", "cap-again.png", "0.7");
            folders.DropText("root.png", "0.7");
            await folders.WaitForRecords(4, TimeSpan.FromSeconds(30));

            var screw = Product(folders, "screw");
            Assert.Equal("S", screw.GetProperty("bankId").GetString());
            Assert.True(screw.GetProperty("loaded").GetBoolean());
            Assert.Equal("C2", Product(folders, "cap").GetProperty("bankId").GetString());
            Assert.Equal(System.Text.Json.JsonValueKind.Null, Product(folders, "cap").GetProperty("lastError").ValueKind);
            Assert.Contains("Refused the new bank", folders.Health().GetProperty("lastError").GetString());
            Assert.Single(daemon.Events(402)); // cap's switch only
        }

        (string Name, string Bank, string Verdict)[] expected =
            [("cap.png", "C2", "ok"), ("screw.png", "S", "ng"), ("cap-again.png", "C2", "ok"), ("root.png", "D", "ng")];
        foreach (var (name, bank, verdict) in expected)
        {
            Assert.Equal(bank, folders.RecordOf(name).GetProperty("bankId").GetString());
            Assert.Equal(verdict, folders.RecordOf(name).GetProperty("verdict").GetString());
        }
        folders.AssertEachExactlyOnce(expected.Select(e => e.Name).ToArray());
    }

    private static System.Text.Json.JsonElement Product(DaemonFolders folders, string name) =>
        folders.Health().GetProperty("products").EnumerateArray().Single(p => p.GetProperty("name").GetString() == name);
}
