using Microsoft.Extensions.Options;
using PatchCore.Core;
using PatchCore.Core.Devices;
using PatchCore.Core.Search;
using PatchCore.Inspection.Banks;

namespace PatchCore.Inspection;

/// <summary>
/// Checks the settings before anything starts: required paths, numeric ranges, product names, and that the inbox can
/// be read and written (images are renamed out of it), the outbox can be created and written, every bank file exists
/// and can be read, and no product's inbox folder is a link or a file. Whether a bank's contents are valid is checked
/// when it is loaded. Every message names the key it is about.
/// </summary>
internal sealed class InspectionOptionsValidator : IValidateOptions<InspectionOptions>
{
    public ValidateOptionsResult Validate(string? name, InspectionOptions o)
    {
        var errors = new List<string>();
        Require(errors, o.Inbox, "Inspection:Inbox");
        if (o.Products.Count == 0) Require(errors, o.Bank, "Inspection:Bank", " unless Inspection:Products are given");
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
        if (o.MaxBatchPixels < 1) errors.Add($"Inspection:MaxBatchPixels must be positive (got {o.MaxBatchPixels}).");
        if (o.MaxFileBytes < 1) errors.Add($"Inspection:MaxFileBytes must be positive (got {o.MaxFileBytes}).");
        if (o.BankMemoryBudgetMb is { } budget) Range(errors, budget, 1, 16 << 20, "Inspection:BankMemoryBudgetMb");
        CheckFeedback(errors, o);
        Range(errors, o.Drift.Window, 2, 1_000_000, "Inspection:Drift:Window");
        Range(errors, o.Drift.MinSamples, 2, o.Drift.Window, "Inspection:Drift:MinSamples");
        if (!(o.Drift.WarnAt > 0 && double.IsFinite(o.Drift.WarnAt))) errors.Add($"Inspection:Drift:WarnAt must be a positive number (got {o.Drift.WarnAt}).");
        CheckVerdictSettings(errors, "Inspection:", o.Threshold, o.ReviewThreshold, o.PixelThreshold, o.MinRegionArea, o.MmPerPixel);
        foreach (var (productName, product) in o.Products)
        {
            string prefix = $"Inspection:Products:{productName}:";
            if (ProductNames.Problem(productName) is { } problem) errors.Add($"Inspection:Products:{productName}: {problem}.");
            Require(errors, product.Bank, prefix + "Bank");
            CheckVerdictSettings(errors, prefix, product.Threshold, product.ReviewThreshold, product.PixelThreshold, product.MinRegionArea, product.MmPerPixel);
            // A band emptied by a mix of the product's and the top-level values is as wrong as one set in one place
            // (a product value that is itself invalid has its own message already).
            double? own = product.Threshold ?? product.ReviewThreshold;
            if (product.Threshold is null != product.ReviewThreshold is null && own is >= 0)
                CheckBand(errors, product.ReviewThreshold ?? o.ReviewThreshold, product.ReviewThreshold is null ? "Inspection:ReviewThreshold" : prefix + "ReviewThreshold",
                    product.Threshold ?? o.Threshold, product.Threshold is null ? "Inspection:Threshold" : prefix + "Threshold");
        }
        try { ComputeDevice.Parse(o.Device); }
        catch (PatchCoreException e) { errors.Add($"Inspection:Device: {e.Message}"); }
        try { SearchBackends.Parse(o.Search); }
        catch (PatchCoreException e) { errors.Add($"Inspection:Search: {e.Message}"); }

        if (errors.Count == 0)
        {
            CheckInbox(errors, o.InboxPath);
            CheckOutbox(errors, o.OutboxPath);
            if (!string.IsNullOrWhiteSpace(o.Bank)) CheckBank(errors, o.BankPath, "Bank file");
            foreach (var (productName, product) in o.Products.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                CheckBank(errors, product.BankPath, $"Inspection:Products:{productName}:Bank: bank file");
                CheckProductFolder(errors, productName, Path.Combine(o.InboxPath, productName));
            }
            if (string.Equals(o.InboxPath.TrimEnd('/'), o.OutboxPath.TrimEnd('/'), StringComparison.Ordinal))
                errors.Add($"Inspection:Inbox and Inspection:Outbox are the same folder ({o.InboxPath}).");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Require(List<string> errors, string value, string key, string unless = "")
    {
        if (string.IsNullOrWhiteSpace(value)) errors.Add($"{key} is required{unless} (configs/inspection.json, environment {key.Replace(":", "__", StringComparison.Ordinal)}, or --{key}=...).");
    }

    /// <param name="prefix">"Inspection:" or "Inspection:Products:NAME:", so each message names the key as it is set.</param>
    private static void CheckVerdictSettings(List<string> errors, string prefix, double? threshold, double? review, double? pixel, long? minRegionArea, double? mmPerPixel)
    {
        foreach (var (key, value) in new[] { ("Threshold", threshold), ("ReviewThreshold", review), ("PixelThreshold", pixel) })
            if (value is { } t && !(double.IsFinite(t) && t >= 0)) errors.Add($"{prefix}{key} must be a finite number >= 0 (got {t}).");
        CheckBand(errors, review, prefix + "ReviewThreshold", threshold, prefix + "Threshold");
        if (minRegionArea is < 1) errors.Add($"{prefix}MinRegionArea must be at least 1 pixel (got {minRegionArea}).");
        if (mmPerPixel is { } mm && !(double.IsFinite(mm) && mm > 0)) errors.Add($"{prefix}MmPerPixel must be a positive number (got {mm}).");
    }

    private static void CheckBand(List<string> errors, double? review, string reviewKey, double? ng, string ngKey)
    {
        if (review is { } r && ng is { } n && r > n)
            errors.Add($"{reviewKey} ({r}) is above {ngKey} ({n}): nothing would go to review.");
    }

    /// <summary>
    /// The daemon creates a missing product folder once it owns the inbox; one that is there must be a real folder,
    /// since a link would be followed into somewhere else (and links in the inbox are never followed).
    /// </summary>
    private static void CheckProductFolder(List<string> errors, string name, string folder)
    {
        var info = new DirectoryInfo(folder);
        if (info.LinkTarget is { } target)
            errors.Add($"Inspection:Products:{name}: the inbox folder {folder} is a symbolic link (to {target}); a product folder must be a real folder.");
        else if (File.Exists(folder))
            errors.Add($"Inspection:Products:{name}: {folder} is a file; the product's images go in a folder of that name.");
    }

    internal static void Range(List<string> errors, int value, int min, int max, string key)
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

    /// <summary>The feedback settings, and, when it is on, that every bank is a NAME.current pointer a new version can be made current in.</summary>
    private static void CheckFeedback(List<string> errors, InspectionOptions o)
    {
        var f = o.Feedback;
        Range(errors, f.MinImages, 1, 100_000, "Inspection:Feedback:MinImages");
        if (f.IntervalMinutes is { } minutes && !(minutes > 0 && minutes <= 525_600))
            errors.Add($"Inspection:Feedback:IntervalMinutes must be in (0, 525600] or null (got {minutes}).");
        if (f.MaxAddedVectors is { } cap) Range(errors, cap, 1, int.MaxValue, "Inspection:Feedback:MaxAddedVectors");
        if (!(f.MaxThresholdRise >= 1 && double.IsFinite(f.MaxThresholdRise)))
            errors.Add($"Inspection:Feedback:MaxThresholdRise must be a factor of at least 1 (got {f.MaxThresholdRise}).");
        if (!(f.HoldOutFraction >= 0 && f.HoldOutFraction < 1))
            errors.Add($"Inspection:Feedback:HoldOutFraction must be in [0, 1) (got {f.HoldOutFraction}).");
        Range(errors, f.WorkBudgetMb, 16, 1 << 20, "Inspection:Feedback:WorkBudgetMb");
        Range(errors, f.PollIntervalMs, 100, 3_600_000, "Inspection:Feedback:PollIntervalMs");
        if (!f.Enabled) return;
        if (!string.IsNullOrWhiteSpace(o.Bank) && !o.Bank.EndsWith(Core.MemoryBank.BankVersions.PointerSuffix, StringComparison.Ordinal))
            errors.Add($"Inspection:Feedback:Enabled needs versioned banks: Inspection:Bank {o.Bank} is not a NAME.current pointer (rename the bank NAME.v1.pcbank and write its name into NAME.current: echo NAME.v1.pcbank > NAME.current).");
        foreach (var (productName, product) in o.Products)
            if (!string.IsNullOrWhiteSpace(product.Bank) && !product.Bank.EndsWith(Core.MemoryBank.BankVersions.PointerSuffix, StringComparison.Ordinal))
                errors.Add($"Inspection:Feedback:Enabled needs versioned banks: Inspection:Products:{productName}:Bank {product.Bank} is not a NAME.current pointer.");
    }

    /// <param name="what">"Bank file" for Inspection:Bank (the message it always gave), else the product's key.</param>
    private static void CheckBank(List<string> errors, string bank, string what)
    {
        if (!File.Exists(bank))
        {
            errors.Add($"{what} {bank} does not exist.");
            return;
        }
        try
        {
            using var stream = new FileStream(bank, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.ReadByte();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{what} {bank} cannot be read: {e.Message}");
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
