using PatchCore.Core;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;
using PatchCore.Core.Scoring;

namespace PatchCore.Inspection.Tests;

/// <summary>Hot reload through the bank loader seam, with fake bank files.</summary>
public sealed class BankReloadUnitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AReplacedBankIsSwitchedToBetweenBatchesAndABadOneIsRefusedKeepingTheOld()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: 0.5);
        await using (var daemon = await FakeDaemon.StartAsync(folders, output))
        {
            folders.DropText("one.png", "0.7");
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));

            FakeBank.Write(folders.Bank, "B", threshold: 0.9);
            await Eventually.True(() => daemon.Events(405).Count == 1, "bank B to be loaded");
            folders.DropText("two.png", "0.7");
            await folders.WaitForRecords(2, TimeSpan.FromSeconds(30));
            Assert.Single(daemon.Events(402));
            Assert.True(daemon.Loader.Loaded[0].IsDisposed, "bank A was not disposed after the switch");

            File.WriteAllText(folders.Bank + ".new", "this is not a bank");
            File.Move(folders.Bank + ".new", folders.Bank, overwrite: true);
            await Eventually.True(() => daemon.Events(403).Count == 1, "the bad bank's refusal");
            await Eventually.True(() => folders.Health().GetProperty("lastError").GetString()?.Contains("Refused the new bank", StringComparison.Ordinal) == true, "health.json to report the refusal");
            folders.DropText("three.png", "0.95");
            await folders.WaitForRecords(3, TimeSpan.FromSeconds(30));
            Assert.Equal("B", folders.Health().GetProperty("bankId").GetString());
        }

        (string Name, string Bank, string Verdict)[] expected = [("one.png", "A", "ng"), ("two.png", "B", "ok"), ("three.png", "B", "ng")];
        foreach (var (name, bank, verdict) in expected)
        {
            Assert.Equal(bank, folders.RecordOf(name).GetProperty("bankId").GetString());
            Assert.Equal(verdict, folders.RecordOf(name).GetProperty("verdict").GetString());
        }
        folders.AssertEachExactlyOnce(expected.Select(e => e.Name).ToArray());

        // The switch is in the journal between the records of the two banks; the refused bank is not.
        var lines = File.ReadAllLines(folders.ResultsFile).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["one.png", "bank-switch", "two.png", "three.png"],
            lines.Select(l => l.TryGetProperty("kind", out var k) ? k.GetString()! : l.GetProperty("originalName").GetString()!));
        Assert.Equal("A", lines[1].GetProperty("fromBankId").GetString());
        Assert.Equal("B", lines[1].GetProperty("toBankId").GetString());
        Assert.Equal(0.9, lines[1].GetProperty("threshold").GetDouble());
    }

    [Fact]
    public async Task ABankWithoutAThresholdStopsTheStartUnlessOneIsConfigured()
    {
        using var folders = FakeDaemon.NewFolders("A", threshold: null);
        var e = await Assert.ThrowsAsync<PatchCoreException>(() => FakeDaemon.StartAsync(folders, output));
        Assert.Equal($"{folders.Bank}: the bank has no calibrated threshold and Inspection:Threshold is not set.", e.Message);

        // The failed start let go of the folders: the next one can take them.
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, "--Inspection:Threshold=0.8"))
        {
            folders.DropText("a.png", "0.7");
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
        }
        Assert.Equal(0.8, folders.RecordOf("a.png").GetProperty("threshold").GetDouble());
        Assert.Equal("ok", folders.RecordOf("a.png").GetProperty("verdict").GetString());
    }
}
