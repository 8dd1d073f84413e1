using Microsoft.Extensions.Options;
using PatchCore.Core;
using PatchCore.Core.Devices;
using PatchCore.Core.Search;

namespace PatchCore.Inspection;

/// <summary>
/// Checks the settings before anything starts: required paths, numeric ranges, and that the inbox can be
/// read and written (images are renamed out of it), the outbox can be created and written, and the bank file
/// exists and can be read. Whether the bank's contents are valid is checked when it is loaded.
/// </summary>
public sealed class InspectionOptionsValidator : IValidateOptions<InspectionOptions>
{
    public ValidateOptionsResult Validate(string? name, InspectionOptions o)
    {
        var errors = new List<string>();
        Require(errors, o.Inbox, "Inspection:Inbox");
        Require(errors, o.Bank, "Inspection:Bank");
        Require(errors, o.Outbox, "Inspection:Outbox");
        Range(errors, o.MaxBatchSize, 1, 1024, "Inspection:MaxBatchSize");
        Range(errors, o.MaxBatchDelayMs, 0, 600_000, "Inspection:MaxBatchDelayMs");
        if (o.BatchSize is { } batch) Range(errors, batch, 1, 1024, "Inspection:BatchSize");
        Range(errors, o.SettleMs, 0, 3_600_000, "Inspection:SettleMs");
        Range(errors, o.RescanIntervalMs, 100, 3_600_000, "Inspection:RescanIntervalMs");
        Range(errors, o.HealthIntervalMs, 100, 3_600_000, "Inspection:HealthIntervalMs");
        Range(errors, o.StatusIntervalMs, 100, 86_400_000, "Inspection:StatusIntervalMs");
        Range(errors, o.DecodeParallelism, 1, 64, "Inspection:DecodeParallelism");
        Range(errors, o.BankPollIntervalMs, 100, 3_600_000, "Inspection:BankPollIntervalMs");
        Range(errors, o.ShutdownTimeoutMs, 1000, 3_600_000, "Inspection:ShutdownTimeoutMs");
        if (o.MaxPixels < 1) errors.Add($"Inspection:MaxPixels must be positive (got {o.MaxPixels}).");
        if (o.MaxFileBytes < 1) errors.Add($"Inspection:MaxFileBytes must be positive (got {o.MaxFileBytes}).");
        foreach (var (key, value) in new[] { ("Threshold", o.Threshold), ("ReviewThreshold", o.ReviewThreshold), ("PixelThreshold", o.PixelThreshold) })
            if (value is { } t && !(double.IsFinite(t) && t >= 0)) errors.Add($"Inspection:{key} must be a finite number >= 0 (got {t}).");
        if (o is { Threshold: { } ng, ReviewThreshold: { } review } && review > ng)
            errors.Add($"Inspection:ReviewThreshold ({review}) is above Inspection:Threshold ({ng}): nothing would go to review.");
        if (o.MinRegionArea is < 1) errors.Add($"Inspection:MinRegionArea must be at least 1 pixel (got {o.MinRegionArea}).");
        if (o.MmPerPixel is { } mm && !(double.IsFinite(mm) && mm > 0)) errors.Add($"Inspection:MmPerPixel must be a positive number (got {mm}).");
        try { ComputeDevice.Parse(o.Device); }
        catch (PatchCoreException e) { errors.Add($"Inspection:Device: {e.Message}"); }
        try { SearchBackends.Parse(o.Search); }
        catch (PatchCoreException e) { errors.Add($"Inspection:Search: {e.Message}"); }

        if (errors.Count == 0)
        {
            CheckInbox(errors, o.InboxPath);
            CheckOutbox(errors, o.OutboxPath);
            CheckBank(errors, o.BankPath);
            if (string.Equals(o.InboxPath.TrimEnd('/'), o.OutboxPath.TrimEnd('/'), StringComparison.Ordinal))
                errors.Add($"Inspection:Inbox and Inspection:Outbox are the same folder ({o.InboxPath}).");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Require(List<string> errors, string value, string key)
    {
        if (string.IsNullOrWhiteSpace(value)) errors.Add($"{key} is required (configs/inspection.json, environment {key.Replace(":", "__", StringComparison.Ordinal)}, or --{key}=...).");
    }

    private static void Range(List<string> errors, int value, int min, int max, string key)
    {
        if (value < min || value > max) errors.Add($"{key} must be between {min} and {max} (got {value}).");
    }

    private static void CheckInbox(List<string> errors, string inbox)
    {
        if (!Directory.Exists(inbox))
        {
            errors.Add($"Inbox folder {inbox} does not exist.");
            return;
        }
        try
        {
            using var entries = Directory.EnumerateFileSystemEntries(inbox).GetEnumerator();
            entries.MoveNext();
            ProbeWrite(Path.Combine(inbox, Layout.StateFolderName));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"Inbox folder {inbox} cannot be read and written: {e.Message}");
        }
    }

    private static void CheckOutbox(List<string> errors, string outbox)
    {
        try
        {
            ProbeWrite(outbox);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"Outbox folder {outbox} cannot be created or written: {e.Message}");
        }
    }

    private static void CheckBank(List<string> errors, string bank)
    {
        if (!File.Exists(bank))
        {
            errors.Add($"Bank file {bank} does not exist.");
            return;
        }
        try
        {
            using var stream = new FileStream(bank, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.ReadByte();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"Bank file {bank} cannot be read: {e.Message}");
        }
    }

    private static void ProbeWrite(string folder)
    {
        Directory.CreateDirectory(folder);
        string probe = Path.Combine(folder, $".probe-{Environment.ProcessId}.tmp");
        File.WriteAllText(probe, "probe");
        File.Delete(probe);
    }
}
