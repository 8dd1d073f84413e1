using Xunit;

namespace PatchCore.Inspection.Tests.Fakes;

/// <summary>Waits for something the daemon does on its own threads. The timeout only keeps a broken daemon from hanging the run; nothing is asserted about time.</summary>
internal static class Eventually
{
    public static async Task True(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!Holds(condition))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    // A file the daemon is replacing can be absent for an instant: that is "not yet", not a failure.
    private static bool Holds(Func<bool> condition)
    {
        try { return condition(); }
        catch (IOException) { return false; }
        catch (System.Text.Json.JsonException) { return false; }
    }
}
