using PatchCore.Core;

namespace PatchCore.Inspection;

/// <summary>The daemon's settings, bound from the <c>Inspection</c> configuration section.</summary>
internal sealed class InspectionOptions
{
    public const string Section = "Inspection";

    /// <summary>Folder images are dropped into: directly (the default product) or in <c>Inbox/&lt;product&gt;/</c>.</summary>
    public string Inbox { get; set; } = "";

    /// <summary>
    /// Memory bank file of the product named <c>default</c>, which scores the images directly in the inbox; replaced
    /// atomically to hot-reload. Optional when <see cref="Products"/> are given.
    /// </summary>
    public string Bank { get; set; } = "";

    /// <summary>Folder holding results.jsonl, ok/, ng/, quarantine/, heatmaps/, health.json and one folder per named product.</summary>
    public string Outbox { get; set; } = "";

    /// <summary>
    /// Named products: an image in <c>Inbox/&lt;name&gt;/</c> is scored with <c>Products:&lt;name&gt;:Bank</c>, with that
    /// product's thresholds where set and the top-level ones otherwise. Names are lowercase (configuration keys ignore
    /// case, folder names do not), see <see cref="Banks.ProductNames"/>.
    /// </summary>
    public Dictionary<string, ProductOptions> Products { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Megabytes the loaded banks may take together (estimated, see README); the least recently used are unloaded to
    /// stay under it and loaded again on demand. Null = no limit: every bank stays loaded.
    /// </summary>
    public int? BankMemoryBudgetMb { get; set; }

    /// <summary>Image score at or above which an image is NG; null takes the bank's calibrated threshold.</summary>
    public double? Threshold { get; set; }

    /// <summary>Image score at or above which an image below the ng threshold goes to review; null takes the bank's.</summary>
    public double? ReviewThreshold { get; set; }

    /// <summary>False turns the review band off: every image is ok or ng.</summary>
    public bool ReviewBand { get; set; } = true;

    /// <summary>Anomaly-map value at or above which a pixel is in a defect region; null takes the bank's.</summary>
    public double? PixelThreshold { get; set; }

    /// <summary>Regions smaller than this many original pixels are dropped; null = one 8x8 cell of the model input.</summary>
    public long? MinRegionArea { get; set; }

    /// <summary>Millimetres per original pixel: records then give regions in mm too; null = pixels only.</summary>
    public double? MmPerPixel { get; set; }

    /// <summary>How many settled files the worker gathers into one batch (the intake batch, not the backbone's).</summary>
    public int MaxBatchSize { get; set; } = 16;

    /// <summary>
    /// Original pixels one intake batch may hold (its decoded images stay in memory until the heatmaps are written): with
    /// large images a batch takes fewer than <see cref="MaxBatchSize"/> files, reckoned from the last batch's largest image.
    /// </summary>
    public long MaxBatchPixels { get; set; } = 32_000_000;

    /// <summary>A partial batch is inspected this long after its first file was taken.</summary>
    public int MaxBatchDelayMs { get; set; } = 250;

    /// <summary>Images per backbone forward pass; null = the library's choice from the device's memory.</summary>
    public int? BatchSize { get; set; }

    public string Device { get; set; } = "auto";
    /// <summary>Nearest-neighbour search: auto, faiss, torch, projected or projected-approx (see <see cref="SearchBackends"/>).</summary>
    public string Search { get; set; } = "auto";
    public int SettleMs { get; set; } = 2000;
    public int RescanIntervalMs { get; set; } = 5000;
    public int HealthIntervalMs { get; set; } = 2000;
    public int StatusIntervalMs { get; set; } = 10000;
    public long MaxPixels { get; set; } = 50_000_000;
    public long MaxFileBytes { get; set; } = 256L << 20;
    public int DecodeParallelism { get; set; } = 2;

    /// <summary>
    /// Give the C allocator's free memory back to the system whenever the pipeline has drained, the newest part finished
    /// (malloc_trim, glibc only), so that resident memory comes back down after a burst; false keeps it for reuse (see
    /// <see cref="PatchCore.Core.Native.NativeHeap"/>).
    /// </summary>
    public bool TrimNativeMemory { get; set; } = true;
    public int BankPollIntervalMs { get; set; } = 2000;
    public int ShutdownTimeoutMs { get; set; } = 30000;

    /// <summary>The operator's feedback: good images that update a product's bank in the background.</summary>
    public Banks.FeedbackOptions Feedback { get; set; } = new();

    /// <summary>Drift of the recent good scores from the bank's calibration.</summary>
    public Banks.DriftOptions Drift { get; set; } = new();

    public string InboxPath => Path.GetFullPath(Inbox);
    public string BankPath => Path.GetFullPath(Bank);
    public string OutboxPath => Path.GetFullPath(Outbox);
}
