using Xunit;

namespace PatchCore.Inspection.Tests.Mqtt;

/// <summary>
/// A fact that needs the Mosquitto broker (and, when named, benchmark data): skipped with a message where either is
/// missing, except under CI (CI=true), where the test runs and fails on what is missing.
/// </summary>
public sealed class BrokerFactAttribute : FactAttribute
{
    public BrokerFactAttribute(params string[] categories)
    {
        if (TestData.IsCi) return;
        var missing = categories.Where(c => !TestData.Has(c)).ToArray();
        if (MosquittoBroker.Missing is { } broker) Skip = broker;
        else if (missing.Length > 0) Skip = $"Benchmark data missing under {TestData.Root}: {string.Join(", ", missing)} (set PATCHCORE_DATA).";
    }
}
