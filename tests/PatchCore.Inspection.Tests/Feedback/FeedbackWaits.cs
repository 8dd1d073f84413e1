using System.Text.Json;
using Xunit;

namespace PatchCore.Inspection.Tests.Feedback;

/// <summary>Waits on what a daemon leaves in its outbox (records, health.json), with a deadline and a clear failure.</summary>
internal static class FeedbackWaits
{
    public static async Task ForRecord(DaemonFolders folders, string name, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(1));
        while (!folders.Records().Any(r => r.GetProperty("originalName").GetString() == name))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no record for {name}");
            await Task.Delay(100);
        }
    }

    /// <summary>Until the default product's records carry <paramref name="bankId"/>; <paramref name="nudge"/> drops an image now and then (the switch happens between batches).</summary>
    public static async Task ForBank(DaemonFolders folders, string bankId, Action nudge, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(1));
        var lastNudge = DateTime.MinValue;
        while (true)
        {
            var records = folders.Records();
            if (records.Count > 0 && records[^1].GetProperty("bankId").GetString() == bankId) return;
            Assert.True(DateTime.UtcNow < deadline, $"the daemon did not switch to bank {bankId}");
            if (DateTime.UtcNow - lastNudge > TimeSpan.FromSeconds(2))
            {
                nudge();
                lastNudge = DateTime.UtcNow;
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Until health.json satisfies <paramref name="condition"/>.</summary>
    public static async Task<JsonElement> ForHealth(DaemonFolders folders, Func<JsonElement, bool> condition, string what, TimeSpan? timeout = null, Action? nudge = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(1));
        var lastNudge = DateTime.UtcNow;
        while (true)
        {
            try
            {
                var health = folders.Health();
                if (condition(health)) return health;
            }
            catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException) { }
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            if (nudge is not null && DateTime.UtcNow - lastNudge > TimeSpan.FromSeconds(2))
            {
                nudge();
                lastNudge = DateTime.UtcNow;
            }
            await Task.Delay(100);
        }
    }
}
