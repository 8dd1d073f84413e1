using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Xunit;

namespace PatchCore.Inspection.Tests;

/// <summary>A temporary inbox, outbox and bank copy for one test, plus readers of what the daemon left behind.</summary>
internal sealed class DaemonFolders : IDisposable
{
    public DaemonFolders(string bankSource)
        : this()
    {
        File.Copy(bankSource, Bank);
    }

    /// <summary>The folders without a bank file: the test writes one (a fake bank).</summary>
    public DaemonFolders()
    {
        Root = Directory.CreateTempSubdirectory("patchcore-inspection-").FullName;
        Inbox = Directory.CreateDirectory(Path.Combine(Root, "inbox")).FullName;
        Outbox = Path.Combine(Root, "outbox");
        Drafts = Directory.CreateDirectory(Path.Combine(Root, "drafts")).FullName;
        Directory.CreateDirectory(Path.Combine(Root, "bank"));
        Bank = Path.Combine(Root, "bank", "current.bin");
    }

    public string Root { get; }
    public string Inbox { get; }
    public string Outbox { get; }
    public string Bank { get; }

    /// <summary>Same file system as the inbox, outside it: files are prepared here and renamed in.</summary>
    public string Drafts { get; }

    public string ResultsFile => Path.Combine(Outbox, "results.jsonl");

    /// <summary>False: <see cref="Args"/> gives no Inspection:Bank (a daemon of named products only).</summary>
    public bool DefaultBank { get; set; } = true;

    public string[] Args(params string[] extra) =>
    [
        $"--Inspection:Inbox={Inbox}", .. DefaultBank ? [$"--Inspection:Bank={Bank}"] : Array.Empty<string>(), $"--Inspection:Outbox={Outbox}",
        "--Inspection:HealthIntervalMs=250", "--Inspection:StatusIntervalMs=2000", .. extra,
    ];

    /// <summary>Where the bank of product <paramref name="product"/> lies (the test writes or copies it there).</summary>
    public string ProductBank(string product) => Path.Combine(Root, "bank", product + ".bin");

    /// <summary>The settings of a product with its bank at <see cref="ProductBank"/>, and any more of its keys ("Threshold=0.3").</summary>
    public string[] ProductArgs(string product, params string[] settings) =>
        [$"--Inspection:Products:{product}:Bank={ProductBank(product)}", .. settings.Select(s => $"--Inspection:Products:{product}:{s}")];

    /// <summary>Copies <paramref name="source"/> to the drafts folder and renames it into the inbox, as a well-behaved writer does.</summary>
    public string Drop(string source, string name)
    {
        string draft = Path.Combine(Drafts, name);
        File.Copy(source, draft, overwrite: true);
        string target = Path.Combine(Inbox, name);
        File.Move(draft, target);
        return target;
    }

    /// <summary>Writes <paramref name="text"/> in the drafts folder and renames it into the inbox (for the fake scorer: a score, or anything else).</summary>
    public string DropText(string name, string text) => DropText("", name, text);

    /// <summary>The same into the inbox's <paramref name="folder"/> (a product's, or any other; made if missing).</summary>
    public string DropText(string folder, string name, string text)
    {
        string draft = Path.Combine(Drafts, Guid.NewGuid().ToString("N"));
        File.WriteAllText(draft, text);
        string target = Path.Combine(Inbox, folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(draft, target);
        return target;
    }

    /// <summary>Copies <paramref name="source"/> into the inbox's <paramref name="folder"/> by a rename, as a well-behaved writer does.</summary>
    public string Drop(string folder, string source, string name)
    {
        string draft = Path.Combine(Drafts, Guid.NewGuid().ToString("N"));
        File.Copy(source, draft);
        string target = Path.Combine(Inbox, folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(draft, target);
        return target;
    }

    /// <summary>The one record of the image that arrived as <paramref name="name"/>.</summary>
    public JsonElement RecordOf(string name) =>
        Records().Single(r => r.GetProperty("originalName").GetString() == name);

    public JsonElement Health()
    {
        using var health = JsonDocument.Parse(File.ReadAllText(Path.Combine(Outbox, "health.json")));
        return health.RootElement.Clone();
    }

    /// <summary>The image records of results.jsonl (not its bank switches: see <see cref="BankSwitches"/>).</summary>
    public List<JsonElement> Records() => JournalLines().Where(l => !l.TryGetProperty("kind", out _)).ToList();

    /// <summary>The bank-switch entries of results.jsonl (lines starting with "kind": "bank-switch").</summary>
    public List<JsonElement> BankSwitches() => JournalLines().Where(l => l.TryGetProperty("kind", out var k) && k.GetString() == "bank-switch").ToList();

    private List<JsonElement> JournalLines()
    {
        if (!File.Exists(ResultsFile)) return [];
        using var stream = new FileStream(ResultsFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var records = new List<JsonElement>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            try { records.Add(JsonDocument.Parse(line).RootElement.Clone()); }
            catch (JsonException) { } // the daemon may be half way through an append
        }
        return records;
    }

    /// <summary>
    /// Every entry the daemon placed in the outbox: under ok/, review/, ng/ and quarantine/ and the same in each
    /// product's folder, links included (not reason files, not heatmaps, not the journal, health or state files). Any
    /// other stray file in the outbox counts too, so a test sees it.
    /// </summary>
    public string[] PlacedImages() =>
        Directory.Exists(Outbox)
            ? Entries(Outbox, folder => folder.Name != "heatmaps")
                .Where(f => !f.EndsWith(".reason.txt", StringComparison.Ordinal))
                .Where(f => Path.GetDirectoryName(f) != Outbox || Path.GetFileName(f) is not ("results.jsonl" or "health.json"))
                .ToArray()
            : [];

    /// <summary>Every entry left in the inbox, at any depth, links included (not hidden ones, not folders).</summary>
    public string[] InboxImages() => Entries(Inbox, _ => true).ToArray();

    public string[] StagedFiles()
    {
        string staging = Path.Combine(Inbox, ".inspection", "staging");
        return Directory.Exists(staging) ? Directory.GetFileSystemEntries(staging) : [];
    }

    /// <summary>Files and links under <paramref name="root"/>, never through a link, skipping hidden names and the folders <paramref name="descend"/> refuses.</summary>
    private static IEnumerable<string> Entries(string root, Func<DirectoryInfo, bool> descend)
    {
        var folders = new Stack<DirectoryInfo>([new DirectoryInfo(root)]);
        while (folders.Count > 0)
        {
            foreach (var entry in folders.Pop().EnumerateFileSystemInfos())
            {
                if (entry.Name.StartsWith('.')) continue;
                if (entry.LinkTarget is null && entry is DirectoryInfo folder)
                {
                    if (descend(folder)) folders.Push(folder);
                    continue;
                }
                yield return entry.FullName;
            }
        }
    }

    /// <param name="daemon">A child-process daemon: the wait ends with its log as soon as it exits.</param>
    public async Task<List<JsonElement>> WaitForRecords(int count, TimeSpan timeout, DaemonProcess? daemon = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var records = Records();
            if (records.Count >= count) return records;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Waited {timeout.TotalSeconds:F0} s for {count} records, saw {records.Count}.\n{daemon?.Log}");
            if (daemon is { HasExited: true })
                Assert.Fail($"The daemon exited with code {daemon.ExitCode} after {records.Count} of {count} records.\n{daemon.Log}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// The invariant after any crash and restart: every dropped name has exactly one record, the image lies at the
    /// record's path with the recorded content, nothing is left in the inbox or in staging, and no image lies twice.
    /// </summary>
    public void AssertEachExactlyOnce(IReadOnlyCollection<string> names)
    {
        var records = Records();
        foreach (string name in names)
        {
            var mine = records.Where(r => r.GetProperty("originalName").GetString() == name).ToList();
            Assert.True(mine.Count == 1, $"{name}: {mine.Count} records");
            string placed = mine[0].GetProperty("path").GetString()!;
            if (new FileInfo(placed).LinkTarget is not null)
            {
                // A quarantined link lies there as the link; it was never read, so its record has no hash.
                Assert.Equal(System.Text.Json.JsonValueKind.Null, mine[0].GetProperty("sha256").ValueKind);
                continue;
            }
            Assert.True(File.Exists(placed), $"{name}: not at {placed}");
            Assert.Equal(mine[0].GetProperty("sha256").GetString(), Sha256(placed));
        }
        Assert.Equal(names.Count, records.Count);
        Assert.Empty(InboxImages());
        Assert.Empty(StagedFiles());
        var placedImages = PlacedImages();
        Assert.Equal(names.Count, placedImages.Length);
        Assert.Equal(placedImages.OrderBy(p => p, StringComparer.Ordinal),
            records.Select(r => r.GetProperty("path").GetString()!).OrderBy(p => p, StringComparer.Ordinal));
    }

    public static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>The hash of a file whose content is <paramref name="text"/> in UTF-8.</summary>
    public static string Sha256Of(string text) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    public static string Name(int i, string source) =>
        $"img{i.ToString("D4", CultureInfo.InvariantCulture)}{Path.GetExtension(source)}";

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
