using System.Diagnostics;
using System.Diagnostics.Metrics;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Intake;

namespace PatchCore.Inspection.Observability;

/// <summary>
/// Gauges read when a metrics reader collects (the HTTP API's <c>/metrics</c>), on the daemon's meter beside
/// <see cref="InspectionMetrics"/>: each product's bank (<c>patchcore_bank_info{product,bank_id} 1</c>,
/// <c>patchcore_bank_loaded</c>, <c>patchcore_bank_age_seconds</c> since the bank was built), the submissions waiting for
/// their record (<c>patchcore_submissions_pending</c>) and the process's memory (<c>patchcore_process_memory_bytes</c>
/// by kind: resident, the managed heap). Kept apart from <see cref="InspectionMetrics"/> because it reads the
/// <see cref="BankKeeper"/>, which itself reports through those instruments. Nothing is computed unless a reader asks.
/// </summary>
internal sealed class DaemonGauges
{
    public const string BankInfoName = "patchcore.bank.info";
    public const string BankLoadedName = "patchcore.bank.loaded";
    public const string BankAgeName = "patchcore.bank.age";
    public const string SubmissionsPendingName = "patchcore.submissions.pending";
    public const string ProcessMemoryName = "patchcore.process.memory";

    public DaemonGauges(InspectionMetrics metrics, BankKeeper banks, ImageSubmissions submissions)
    {
        var meter = metrics.Meter;
        meter.CreateObservableGauge(BankInfoName, () => banks.Snapshot().Where(p => p.BankId is not null)
                .Select(p => new Measurement<int>(1, new("product", p.Name), new("bank_id", p.BankId))),
            "", "The accepted bank of each product (1, by product and bank_id), loaded or not.");
        meter.CreateObservableGauge(BankLoadedName, () => banks.Snapshot()
                .Select(p => new Measurement<int>(p.Loaded ? 1 : 0, new KeyValuePair<string, object?>("product", p.Name))),
            "", "1 while the product's bank is in memory, 0 while unloaded to stay in Inspection:BankMemoryBudgetMb.");
        meter.CreateObservableGauge(BankAgeName, () => banks.Snapshot().Where(p => p.BankCreatedAt is not null)
                .Select(p => new Measurement<double>(Math.Max(0, (DateTimeOffset.UtcNow - p.BankCreatedAt!.Value).TotalSeconds), new KeyValuePair<string, object?>("product", p.Name))),
            "s", "Time since the product's accepted bank was built (its metadata's creation time).");
        meter.CreateObservableGauge(SubmissionsPendingName, () => submissions.Pending,
            "{image}", "Submitted images (HTTP uploads) accepted and waiting for their record.");
        meter.CreateObservableGauge(ProcessMemoryName, ProcessMemory,
            "By", "Memory of the daemon's process, by kind: resident (the resident set, what the kernel counts) and managed_heap (the .NET heap).");
    }

    private static IEnumerable<Measurement<long>> ProcessMemory()
    {
        using var process = Process.GetCurrentProcess();
        yield return new Measurement<long>(process.WorkingSet64, new KeyValuePair<string, object?>("kind", "resident"));
        yield return new Measurement<long>(GC.GetGCMemoryInfo().HeapSizeBytes, new KeyValuePair<string, object?>("kind", "managed_heap"));
    }
}
