using Microsoft.Extensions.Options;
using PatchCore.Core;
using PatchCore.Inspection.Tests.Fakes;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

/// <summary>Per-product settings: overrides of the top-level ones, and what is refused at start.</summary>
public sealed class ProductSettingsUnitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AProductsOwnSettingsOverrideTheTopLevelOnesWhichOverrideTheBanks()
    {
        using var folders = FakeDaemon.NewFolders("D", threshold: 0.5);
        FakeBank.Write(folders.Bank, "D", threshold: 0.5, review: 0.3);
        FakeBank.Write(folders.ProductBank("cap"), "C", threshold: 0.5, review: 0.3);
        FakeBank.Write(folders.ProductBank("screw"), "S", threshold: 0.5, review: 0.3);
        string[] args =
        [
            "--Inspection:MmPerPixel=0.05",
            .. folders.ProductArgs("cap", "Threshold=0.7", "ReviewBand=false", "MmPerPixel=0.1", "MinRegionArea=40"),
            .. folders.ProductArgs("screw", "ReviewThreshold=0.2"),
        ];
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, args))
        {
            foreach (string folder in new[] { "", "cap", "screw" })
            {
                string prefix = folder.Length == 0 ? "default" : folder;
                folders.DropText(folder, $"{prefix}-high.png", "0.6");
                folders.DropText(folder, $"{prefix}-low.png", "0.25");
            }
            await folders.WaitForRecords(6, TimeSpan.FromSeconds(30));

            var options = daemon.Loader.Loaded.ToDictionary(s => s.BankId, s => s.Options);
            Assert.Equal(0.05, options["D"].Regions.MmPerPixel);
            Assert.Equal(0.1, options["C"].Regions.MmPerPixel);
            Assert.Equal(0.05, options["S"].Regions.MmPerPixel);
            Assert.Equal(40, options["C"].Regions.MinArea);
            Assert.Null(options["S"].Regions.MinArea);
        }

        // default: the bank's 0.5 / 0.3; cap: ng at 0.7, no review band; screw: the bank's 0.5, review from 0.2.
        (string Name, string Verdict, double Threshold, double? Review)[] expected =
        [
            ("default-high.png", "ng", 0.5, 0.3), ("default-low.png", "ok", 0.5, 0.3),
            ("cap-high.png", "ok", 0.7, null), ("cap-low.png", "ok", 0.7, null),
            ("screw-high.png", "ng", 0.5, 0.2), ("screw-low.png", "review", 0.5, 0.2),
        ];
        foreach (var (name, verdict, threshold, review) in expected)
        {
            var record = folders.RecordOf(name);
            Assert.Equal(verdict, record.GetProperty("verdict").GetString());
            Assert.Equal(threshold, record.GetProperty("threshold").GetDouble());
            if (review is { } r) Assert.Equal(r, record.GetProperty("reviewThreshold").GetDouble());
            else Assert.False(record.TryGetProperty("reviewThreshold", out _), $"{name} has a review threshold");
        }
        Assert.StartsWith(Path.Combine(folders.Outbox, "screw", "review") + Path.DirectorySeparatorChar, folders.RecordOf("screw-low.png").GetProperty("path").GetString());
        folders.AssertEachExactlyOnce(expected.Select(e => e.Name).ToArray());
    }

    [Fact]
    public async Task BadProductNamesAndSettingsStopTheStartNamingEachKey()
    {
        using var folders = FakeDaemon.NewFolders();
        string bank = folders.Bank;
        await using var daemon = new FakeDaemon(folders, output,
            $"--Inspection:Products:Bottle:Bank={bank}",
            $"--Inspection:Products:ok:Bank={bank}",
            $"--Inspection:Products:default:Bank={bank}",
            $"--Inspection:Products:..:Bank={bank}",
            $"--Inspection:Products:a b:Bank={bank}",
            "--Inspection:Products:cap:Threshold=0.5",
            $"--Inspection:Products:screw:Bank={bank}", "--Inspection:Products:screw:Threshold=-1", "--Inspection:Products:screw:MinRegionArea=0",
            $"--Inspection:Products:nut:Bank={bank}", "--Inspection:Products:nut:ReviewThreshold=0.9", "--Inspection:Products:nut:Threshold=0.5",
            $"--Inspection:Products:bolt:Bank={bank}", "--Inspection:Products:bolt:Threshold=0.4", "--Inspection:ReviewThreshold=0.6",
            "--Inspection:BankMemoryBudgetMb=0");
        var e = await Assert.ThrowsAsync<OptionsValidationException>(daemon.StartAsync);
        foreach (string failure in e.Failures) output.WriteLine(failure);
        string[] expected =
        [
            "Inspection:Products:Bottle: 'Bottle' is not a product name: use 1 to 64 lowercase letters, digits, '-' and '_', starting with a letter or digit (it names the folders Inbox/<name>/ and Outbox/<name>/, and configuration keys ignore case).",
            "Inspection:Products:ok: 'ok' is reserved: the outbox has a folder of that name for the default product.",
            "Inspection:Products:default: 'default' is the product of Inspection:Bank (images directly in the inbox): set Inspection:Bank and the top-level thresholds instead.",
            "Inspection:Products:..: '..' is not a product name",
            "Inspection:Products:a b: 'a b' is not a product name",
            "Inspection:Products:cap:Bank is required",
            "Inspection:Products:screw:Threshold must be a finite number >= 0 (got -1).",
            "Inspection:Products:screw:MinRegionArea must be at least 1 pixel (got 0).",
            "Inspection:Products:nut:ReviewThreshold (0.9) is above Inspection:Products:nut:Threshold (0.5): nothing would go to review.",
            "Inspection:ReviewThreshold (0.6) is above Inspection:Products:bolt:Threshold (0.4): nothing would go to review.",
            "Inspection:ReviewThreshold (0.6) is above Inspection:Products:cap:Threshold (0.5): nothing would go to review.",
            "Inspection:BankMemoryBudgetMb must be between 1 and 16777216 (got 0).",
        ];
        foreach (string message in expected)
            Assert.True(e.Failures.Any(f => f.StartsWith(message, StringComparison.Ordinal)), $"no failure starts with: {message}");
        Assert.Equal(expected.Length, e.Failures.Count());
        Assert.Empty(daemon.Loader.Loaded);
    }

    [Fact]
    public async Task AMissingProductBankAProductFolderThatIsALinkAndNoBankAtAllAreRefusedAtStart()
    {
        using var folders = new DaemonFolders { DefaultBank = false };
        string missing = folders.ProductBank("cap");
        FakeBank.Write(folders.ProductBank("screw"), "S", threshold: 0.5);
        Directory.CreateSymbolicLink(Path.Combine(folders.Inbox, "screw"), folders.Drafts);
        await using (var daemon = new FakeDaemon(folders, output, [.. folders.ProductArgs("cap"), .. folders.ProductArgs("screw")]))
        {
            var e = await Assert.ThrowsAsync<OptionsValidationException>(daemon.StartAsync);
            Assert.Equal(
            [
                $"Inspection:Products:cap:Bank: bank file {missing} does not exist.",
                $"Inspection:Products:screw: the inbox folder {Path.Combine(folders.Inbox, "screw")} is a symbolic link (to {folders.Drafts}); a product folder must be a real folder.",
            ], e.Failures);
        }
        await using (var daemon = new FakeDaemon(folders, output))
        {
            var e = await Assert.ThrowsAsync<OptionsValidationException>(daemon.StartAsync);
            Assert.Contains(e.Failures, f => f.StartsWith("Inspection:Bank is required unless Inspection:Products are given", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task ABadBankForAnyProductStopsTheStartNamingTheProductAndTheFile()
    {
        using var folders = FakeDaemon.NewFolders("D", threshold: 0.5);
        FakeBank.Write(folders.ProductBank("cap"), "C", threshold: 0.5);
        File.WriteAllText(folders.ProductBank("screw"), "this is not a bank");
        FakeBank.Write(folders.ProductBank("nut"), "N", threshold: null);
        string[] args = [.. folders.ProductArgs("cap"), .. folders.ProductArgs("screw")];
        await using (var daemon = new FakeDaemon(folders, output, args))
        {
            var e = await Assert.ThrowsAsync<PatchCoreException>(daemon.StartAsync);
            Assert.StartsWith($"Product 'screw': {folders.ProductBank("screw")}: not a fake bank", e.Message);
            // What was loaded before the bad one is disposed again: nothing stays loaded after a refused start.
            Assert.NotEmpty(daemon.Loader.Loaded);
            Assert.Empty(daemon.Loader.Live);
        }
        await using (var daemon = new FakeDaemon(folders, output, folders.ProductArgs("nut")))
        {
            var e = await Assert.ThrowsAsync<PatchCoreException>(daemon.StartAsync);
            Assert.Equal($"Product 'nut': {folders.ProductBank("nut")}: the bank has no calibrated threshold and neither Inspection:Products:nut:Threshold nor Inspection:Threshold is set.", e.Message);
        }
        await using (var daemon = await FakeDaemon.StartAsync(folders, output, [.. folders.ProductArgs("nut", "Threshold=0.8")]))
        {
            folders.DropText("nut", "a.png", "0.7");
            await folders.WaitForRecords(1, TimeSpan.FromSeconds(30));
        }
        Assert.Equal("ok", folders.RecordOf("a.png").GetProperty("verdict").GetString());
        Assert.Equal(0.8, folders.RecordOf("a.png").GetProperty("threshold").GetDouble());
    }

    /// <summary>The real daemon (real loader, no dataset needed: the file is refused before any backbone is loaded).</summary>
    [Fact]
    public void ABadProductBankStopsTheDaemonProcessWithExitCode2NamingTheProductAndTheFile()
    {
        using var folders = new DaemonFolders { DefaultBank = false };
        File.WriteAllBytes(folders.ProductBank("cap"), [1, 2, 3, 4, 5]);
        using var daemon = DaemonProcess.Start(folders.Args(folders.ProductArgs("cap")));
        Assert.True(daemon.WaitForExit(TimeSpan.FromMinutes(1)), "still running with a corrupt product bank");
        output.WriteLine(daemon.Log);
        Assert.Equal(2, daemon.ExitCode);
        Assert.Contains($"cannot start: Product 'cap': {folders.ProductBank("cap")}: ", daemon.Log);
    }
}
