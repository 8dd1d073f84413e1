using System.Globalization;
using PatchCore.Core.Scoring;
using Links = PatchCore.Inspection.Outbox.Links;

namespace PatchCore.Inspection;

/// <summary>
/// Where everything lives under the inbox and the outbox. The default product (and whatever belongs to no product)
/// keeps the layout of the single-bank daemon, directly in the outbox; a named product has the same layout in
/// <c>Outbox/&lt;product&gt;/</c> (product names cannot be ok, review, ng, quarantine or heatmaps: see
/// <see cref="Banks.ProductNames"/>). One journal, one checkpoint and one health file serve every product.
/// </summary>
internal sealed class Layout
{
    /// <summary>The daemon's own folder in the inbox and in the outbox (hidden: never taken as an image).</summary>
    public const string StateFolderName = ".inspection";
    public const string ResultsFileName = "results.jsonl";
    public const string HealthFileName = "health.json";

    public Layout(string inbox, string outbox)
    {
        Inbox = inbox;
        Outbox = outbox;
    }

    public string Inbox { get; }
    public string Outbox { get; }
    public string ResultsFile => Path.Combine(Outbox, ResultsFileName);
    public string HealthFile => Path.Combine(Outbox, HealthFileName);
    public string CheckpointFile => Path.Combine(OutboxStateFolder, "checkpoint.json");

    /// <summary>The daemon's own files in the inbox: staging and the inbox lock.</summary>
    public string InboxStateFolder => Path.Combine(Inbox, StateFolderName);

    /// <summary>The daemon's own files in the outbox: checkpoint and the outbox lock.</summary>
    public string OutboxStateFolder => Path.Combine(Outbox, StateFolderName);

    /// <summary>
    /// Same file system as the inbox, so taking an image out of the inbox is one atomic rename; the name is the
    /// record id, which ties a staged file to its record after a crash.
    /// </summary>
    public string StagingFolder => Path.Combine(InboxStateFolder, "staging");

    public string StagingPath(string recordId, string originalName) =>
        Path.Combine(StagingFolder, recordId + Path.GetExtension(originalName));

    /// <summary>
    /// Submissions on their way into the inbox (<see cref="Intake.ImageSubmissions"/>): their bytes until renamed into a
    /// product's folder, and their tickets until recorded. In the inbox's hidden state folder: same file system as the
    /// product folders (one atomic rename), and never taken as an image.
    /// </summary>
    public string UploadsFolder => Path.Combine(InboxStateFolder, "uploads");

    /// <summary>The daemon's copies of accepted banks, kept when a memory budget may unload them (see <see cref="Banks.BankSource"/>).</summary>
    public string BankCopyFolder => Path.Combine(OutboxStateFolder, "banks");

    /// <summary>The outbox of a product: the outbox itself for the default product and for no product (null), else Outbox/PRODUCT/.</summary>
    public string ProductOutbox(string? product) =>
        product is null || product == Banks.Product.DefaultName ? Outbox : Path.Combine(Outbox, product);

    /// <summary>The inbox folder of a product: the inbox itself for the default product, else Inbox/PRODUCT/.</summary>
    public string ProductInbox(string product) =>
        product == Banks.Product.DefaultName ? Inbox : Path.Combine(Inbox, product);

    /// <summary>ok/DAY/, review/DAY/, ng/DAY/ or quarantine/, in the product's outbox.</summary>
    public string DestinationFolder(Verdict verdict, DateTimeOffset when, string? product = null) => verdict == Verdict.Quarantined
        ? Path.Combine(ProductOutbox(product), "quarantine")
        : Path.Combine(ProductOutbox(product), Verdicts.Name(verdict), Day(when));

    /// <summary>heatmaps/DAY/VERDICT/NAME.heatmap.png, in the product's outbox.</summary>
    public string HeatmapPath(Verdict verdict, DateTimeOffset when, string destinationName, string? product = null) =>
        Path.Combine(ProductOutbox(product), "heatmaps", Day(when), Verdicts.Name(verdict), Path.GetFileNameWithoutExtension(destinationName) + ".heatmap.png");

    /// <summary>The binary defect mask beside the heatmap: heatmaps/DAY/VERDICT/NAME.mask.png, in the product's outbox.</summary>
    public string MaskPath(Verdict verdict, DateTimeOffset when, string destinationName, string? product = null) =>
        Path.Combine(ProductOutbox(product), "heatmaps", Day(when), Verdicts.Name(verdict), Path.GetFileNameWithoutExtension(destinationName) + ".mask.png");

    public static string ReasonPath(string quarantinedPath) => quarantinedPath + ".reason.txt";

    /// <summary>
    /// A name in <paramref name="folder"/> that no file has and no other image of this run has reserved:
    /// <c>name.png</c>, else <c>name~1.png</c>, <c>name~2.png</c>, ... Never an overwrite.
    /// </summary>
    public static string UniqueDestination(string folder, string fileName, ISet<string> reserved)
    {
        string stem = Path.GetFileNameWithoutExtension(fileName);
        string ext = Path.GetExtension(fileName);
        for (int i = 0; ; i++)
        {
            string candidate = Path.Combine(folder, i == 0 ? fileName : $"{stem}~{i.ToString(CultureInfo.InvariantCulture)}{ext}");
            if (!reserved.Contains(candidate) && !Links.EntryExists(candidate) && !Links.EntryExists(ReasonPath(candidate)))
                return candidate;
        }
    }

    private static string Day(DateTimeOffset when) => when.ToLocalTime().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
