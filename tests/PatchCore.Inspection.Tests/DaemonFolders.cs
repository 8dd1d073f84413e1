using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Xunit;

namespace PatchCore.Inspection.Tests;

/// <summary>A temporary inbox, outbox and bank copy for one test, plus readers of what the daemon left behind.</summary>
public sealed class DaemonFolders : IDisposable
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

    public string[] Args(params string[] extra) =>
    [
        $"--Inspection:Inbox={Inbox}", $"--Inspection:Bank={Bank}", $"--Inspection:Outbox={Outbox}",
        "--Inspection:HealthIntervalMs=250", "--Inspection:StatusIntervalMs=2000", .. extra,
    ];

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
    public string DropText(string name, string text)
    {
        string draft = Path.Combine(Drafts, name);
        File.WriteAllText(draft, text);
        string target = Path.Combine(Inbox, name);
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

    public List<JsonElement> Records()
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

    /// <summary>Image files under ok/, review/, ng/ and quarantine/ (not reason files, not heatmaps).</summary>
    public string[] PlacedImages()
    {
        if (!Directory.Exists(Outbox)) return [];
        return new[] { "ok", "review", "ng", "quarantine" }
            .Select(d => Path.Combine(Outbox, d))
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories))
            .Where(f => !f.EndsWith(".reason.txt", StringComparison.Ordinal) && !Path.GetFileName(f).StartsWith('.'))
            .ToArray();
    }

    public string[] InboxImages() => Directory.EnumerateFiles(Inbox).Where(f => !Path.GetFileName(f).StartsWith('.')).ToArray();

    public string[] StagedFiles()
    {
        string staging = Path.Combine(Inbox, ".inspection", "staging");
        return Directory.Exists(staging) ? Directory.GetFiles(staging) : [];
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
