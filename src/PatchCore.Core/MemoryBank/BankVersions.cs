using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using PatchCore.Core.Native;

namespace PatchCore.Core.MemoryBank;

/// <summary>
/// Versions of a bank in one folder: <c>NAME.v1.pcbank</c>, <c>NAME.v2.pcbank</c>, ... beside a pointer file
/// <c>NAME.current</c> whose one line is the file name of the version in use (<c>NAME.v2.pcbank</c>). A series is named
/// by the path without suffix (<c>/banks/bottle</c>); every method also takes the pointer's or a version's path.
/// <list type="bullet">
/// <item>Version files are never rewritten: a new version is a new file, written to a temp name and renamed into place
/// (<see cref="MemoryBankFile.Write"/>), so no reader ever sees a partial version, and the temp names never match the
/// version pattern.</item>
/// <item>The pointer is replaced atomically (temp file, fsync, rename, fsync of the folder): a reader sees the old
/// name or the new one. A leftover temp file (<c>NAME.current.tmp-...</c>, from a writer killed mid-way) is ignored.</item>
/// <item>A version is made current only after its file has been read whole and its checksum verified.</item>
/// </list>
/// A text pointer rather than a symbolic link: it is as atomic on one file system, and it also survives copies, zip
/// files, Windows and network shares, says what it holds to anyone who opens it, and a rollback by hand is one
/// <c>echo NAME.v1.pcbank &gt; NAME.current</c>.
/// </summary>
public static class BankVersions
{
    public const string PointerSuffix = ".current";
    public const string BankSuffix = ".pcbank";

    private static readonly Regex VersionName = new(@"^(?<name>.+)\.v(?<n>[0-9]{1,9})\.pcbank$", RegexOptions.CultureInvariant);

    /// <summary>
    /// The series a path belongs to, as a full path without suffix: <c>x/NAME.current</c>, <c>x/NAME.vN.pcbank</c>,
    /// <c>x/NAME.pcbank</c> (a bank that is not yet versioned) and <c>x/NAME</c> all give <c>/full/x/NAME</c>.
    /// </summary>
    public static string SeriesOf(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        string file = Path.GetFileName(full);
        string dir = Path.GetDirectoryName(full) ?? "";
        if (file.EndsWith(PointerSuffix, StringComparison.Ordinal)) return Path.Combine(dir, file[..^PointerSuffix.Length]);
        if (VersionName.Match(file) is { Success: true } m) return Path.Combine(dir, m.Groups["name"].Value);
        if (file.EndsWith(BankSuffix, StringComparison.Ordinal)) return Path.Combine(dir, file[..^BankSuffix.Length]);
        return full;
    }

    public static string PointerPath(string series) => SeriesOf(series) + PointerSuffix;

    public static string VersionPath(string series, int version)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        return SeriesOf(series) + string.Create(CultureInfo.InvariantCulture, $".v{version}{BankSuffix}");
    }

    /// <summary>The version number of a version file's path (<c>NAME.vN.pcbank</c>); null for any other path.</summary>
    public static int? VersionOf(string path) =>
        VersionName.Match(Path.GetFileName(path)) is { Success: true } m ? int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture) : null;

    /// <summary>
    /// The bank file a path means: for a pointer (<c>NAME.current</c>), the version file it names, which must exist;
    /// any other path is returned as it is. This is how hosts load "the current bank".
    /// </summary>
    /// <exception cref="BankFileException">The pointer is missing, unreadable, names no version of its series, or names a missing file.</exception>
    public static string Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!path.EndsWith(PointerSuffix, StringComparison.Ordinal)) return path;
        string series = SeriesOf(path);
        int version = ReadPointer(series) ?? throw new BankFileException(Path.GetFullPath(path), "pointer file not found");
        string target = VersionPath(series, version);
        if (!File.Exists(target))
            throw new BankFileException(Path.GetFullPath(path), $"points to {Path.GetFileName(target)}, which does not exist");
        return target;
    }

    /// <summary>The version numbers present (files named NAME.vN.pcbank), ascending.</summary>
    public static IReadOnlyList<int> Versions(string series)
    {
        string full = SeriesOf(series);
        string dir = Path.GetDirectoryName(full)!, name = Path.GetFileName(full);
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, name + ".v*" + BankSuffix)
            .Select(f => VersionName.Match(Path.GetFileName(f)))
            .Where(m => m.Success && m.Groups["name"].Value == name)
            .Select(m => int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture))
            .Order()
            .ToArray();
    }

    /// <summary>The version the pointer names; null when there is no pointer.</summary>
    /// <exception cref="BankFileException">The pointer exists but does not name a version of its series.</exception>
    public static int? Current(string series) => ReadPointer(SeriesOf(series));

    /// <summary>The file the next version goes to: NAME.v{highest + 1}.pcbank (v1 for a new series).</summary>
    public static string NextVersionPath(string series)
    {
        var versions = Versions(series);
        return VersionPath(series, versions.Count == 0 ? 1 : versions[^1] + 1);
    }

    /// <summary>
    /// Makes <paramref name="version"/> current: its file is read whole and its checksum verified first, then the
    /// pointer is replaced atomically.
    /// </summary>
    /// <exception cref="BankFileException">The version's file is missing or cannot be used (it names the file and the problem).</exception>
    public static void SetCurrent(string series, int version)
    {
        string target = VersionPath(series, version);
        MemoryBankFile.Read(target); // refuses a missing, truncated or corrupt version, naming it
        WritePointer(SeriesOf(series), Path.GetFileName(target));
    }

    /// <summary>Every version with its size, id, parent, thresholds and dates; unreadable ones say why.</summary>
    public static IReadOnlyList<BankVersionInfo> List(string series)
    {
        string full = SeriesOf(series);
        int? current = ReadPointerOrNull(full);
        return Versions(full).Select(v =>
        {
            string path = VersionPath(full, v);
            long bytes = new FileInfo(path).Length;
            try
            {
                var content = MemoryBankFile.Read(path);
                return new BankVersionInfo { Version = v, Path = path, FileBytes = bytes, IsCurrent = v == current, Id = content.Checksum, Metadata = content.Metadata };
            }
            catch (BankFileException e)
            {
                return new BankVersionInfo { Version = v, Path = path, FileBytes = bytes, IsCurrent = v == current, Problem = e.Problem };
            }
        }).ToArray();
    }

    /// <summary>
    /// Moves the pointer back: to <paramref name="to"/> when given, else to the current version's parent (the version
    /// whose id the current one records as its parent). Refuses a missing or corrupt target, and a current version
    /// without a parent in the series. Returns the version now current.
    /// </summary>
    public static BankVersionInfo Rollback(string series, int? to = null)
    {
        string full = SeriesOf(series);
        var versions = List(full);
        if (versions.Count == 0)
            throw new PatchCoreException($"{full}: no versions found ({Path.GetFileName(full)}.vN{BankSuffix}).");
        int target;
        if (to is int wanted)
        {
            target = wanted;
            if (versions.All(v => v.Version != wanted))
                throw new BankFileException(VersionPath(full, wanted), $"version v{wanted} does not exist (versions: {Describe(versions)})");
        }
        else
        {
            int current = ReadPointer(full) ?? throw new BankFileException(PointerPath(full), "pointer file not found: give the version to make current (--to vN)");
            var now = versions.FirstOrDefault(v => v.Version == current)
                      ?? throw new BankFileException(PointerPath(full), $"points to v{current}, which does not exist: give the version to make current (--to vN)");
            if (now.Metadata is null)
                throw new BankFileException(now.Path, $"the current version cannot be read ({now.Problem}), so its parent is unknown: give the version to make current (--to vN)");
            string parentId = now.Metadata.ParentId
                              ?? throw new PatchCoreException($"{now.Path}: v{current} was built, not updated: it has no parent to roll back to (give --to vN for another version).");
            // by id; else the file the update recorded as its parent (which then cannot be read, and is refused below)
            var parent = versions.FirstOrDefault(v => v.Id == parentId)
                         ?? versions.FirstOrDefault(v => v.Id is null && Path.GetFileName(v.Path) == now.Metadata.Updates[^1].ParentFile)
                         ?? throw new PatchCoreException($"{now.Path}: its parent bank (id {parentId[..Math.Min(12, parentId.Length)]}) is not a version of {Path.GetFileName(full)} (give --to vN).");
            target = parent.Version;
        }
        var chosen = versions.Single(v => v.Version == target);
        if (chosen.Problem is not null)
            throw new BankFileException(chosen.Path, $"cannot roll back to v{target}: {chosen.Problem}");
        SetCurrent(full, target);
        return chosen with { IsCurrent = true };
    }

    private static string Describe(IReadOnlyList<BankVersionInfo> versions) => string.Join(", ", versions.Select(v => $"v{v.Version}"));

    private static int? ReadPointerOrNull(string series)
    {
        try { return ReadPointer(series); }
        catch (BankFileException) { return null; }
    }

    /// <summary>The version the pointer names; null when there is no pointer file.</summary>
    private static int? ReadPointer(string series)
    {
        string pointer = series + PointerSuffix;
        string text;
        try
        {
            text = File.ReadAllText(pointer, Encoding.UTF8);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BankFileException(pointer, $"cannot read the pointer: {e.Message}", e);
        }
        string line = text.Trim();
        string name = Path.GetFileName(series);
        if (VersionName.Match(line) is not { Success: true } m || m.Groups["name"].Value != name || line.Contains('/') || line.Contains('\\'))
            throw new BankFileException(pointer, $"the pointer holds '{Shorten(line)}', not a version file of {name} ({name}.vN{BankSuffix})");
        return int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "...";

    /// <summary>Replaces the pointer atomically: a temp file beside it, flushed to disk, renamed over it, then the folder flushed.</summary>
    private static void WritePointer(string series, string versionFile)
    {
        string pointer = series + PointerSuffix;
        string dir = Path.GetDirectoryName(pointer)!;
        string tmp = $"{pointer}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(Encoding.UTF8.GetBytes(versionFile + "\n"));
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, pointer, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        LibC.FsyncDirectory(dir);
    }
}
