using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

[Collection(DaemonCollection.Name)]
public sealed class BankReloadTests(BankFixture bank, ITestOutputHelper output)
{
    [DataFact("bottle")]
    public async Task AReplacedBankIsSwitchedToAndABadOneIsRefusedKeepingTheOld()
    {
        using var folders = new DaemonFolders(bank.BankA);
        string[] args = folders.Args([.. bank.ThresholdArgs, "--Inspection:SettleMs=200", "--Inspection:BankPollIntervalMs=200"]);

        await using (await InProcessDaemon.StartAsync(args, output))
        {
            folders.Drop(bank.Good[0], "before.png");
            await folders.WaitForRecords(1, TimeSpan.FromMinutes(1));

            ReplaceAtomically(folders.Bank, File.ReadAllBytes(bank.BankB));
            await WaitForHealth(folders, h => h.GetProperty("bankId").GetString() == bank.BankBId || NewRecordsCarry(folders, bank.BankBId), "the switch to bank B", () =>
                folders.Drop(bank.Good[1], $"probe-{Guid.NewGuid():N}.png"));
            folders.Drop(bank.Good[2], "after-good-swap.png");
            await WaitForName(folders, "after-good-swap.png");

            ReplaceAtomically(folders.Bank, "this is not a bank"u8.ToArray());
            await WaitForHealth(folders, h => h.GetProperty("lastError").GetString()?.Contains("Refused the new bank", StringComparison.Ordinal) == true, "the bad bank's refusal");
            folders.Drop(bank.Good[3], "after-bad-swap.png");
            await WaitForName(folders, "after-bad-swap.png");
        }

        var records = folders.Records();
        string BankOf(string name) => records.Single(r => r.GetProperty("originalName").GetString() == name).GetProperty("bankId").GetString()!;
        Assert.Equal(bank.BankAId, BankOf("before.png"));
        Assert.Equal(bank.BankBId, BankOf("after-good-swap.png"));
        Assert.Equal(bank.BankBId, BankOf("after-bad-swap.png"));
        Assert.NotEqual(bank.BankAId, bank.BankBId);
        folders.AssertEachExactlyOnce(records.Select(r => r.GetProperty("originalName").GetString()!).ToArray());
    }

    /// <summary>What the bank builder does: write beside the target, then rename over it.</summary>
    private static void ReplaceAtomically(string path, byte[] bytes)
    {
        string temp = path + ".new";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    private static bool NewRecordsCarry(DaemonFolders folders, string bankId) =>
        folders.Records().Any(r => r.GetProperty("bankId").GetString() == bankId);

    private static async Task WaitForHealth(DaemonFolders folders, Func<JsonElement, bool> condition, string what, Action? nudge = null)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        var lastNudge = DateTime.UtcNow;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var health = JsonDocument.Parse(File.ReadAllText(Path.Combine(folders.Outbox, "health.json")));
                if (condition(health.RootElement)) return;
            }
            catch (IOException) { }
            if (nudge is not null && DateTime.UtcNow - lastNudge > TimeSpan.FromSeconds(2))
            {
                // The switch happens between batches: a batch has to come for it to happen.
                nudge();
                lastNudge = DateTime.UtcNow;
            }
            await Task.Delay(100);
        }
        Assert.Fail($"Timed out waiting for {what}");
    }

    private static async Task WaitForName(DaemonFolders folders, string name)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!folders.Records().Any(r => r.GetProperty("originalName").GetString() == name))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no record for {name}");
            await Task.Delay(100);
        }
    }
}
