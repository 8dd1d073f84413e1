using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Web;

/// <summary>
/// Reads results.jsonl for the HTTP API and the live page: every result they show comes from the journal, the truth,
/// never from a copy the worker keeps on the side. The journal is append-only and may grow for months, so nothing
/// holds all of it: the last <see cref="RecentCapacity"/> records are kept (read incrementally as the file grows: what
/// the page and a poller with <c>since</c> ask for), and an older record is found in the file itself: a record's id is
/// a version-7 GUID whose first 48 bits are the milliseconds it was made at, and the journal's <c>scoredAt</c> only
/// grows (batches are appended one after the other), so a bisection on <c>scoredAt</c> finds where to start scanning; a
/// scan of the rest of the file follows if a wall-clock step broke that order, so an existing id is always found. One
/// such search runs at a time. Only complete lines are read (an append in progress is not yet a record), and a file
/// shorter than what was read (replaced by hand) is read again from its tail. Thread-safe.
/// </summary>
internal sealed class JournalReader : IDisposable
{
    /// <summary>How many of the latest records are kept in memory: the most a page of results may hold.</summary>
    public const int RecentCapacity = 1000;

    /// <summary>How much of a journal's end is read at first to fill the recent records (records are about 1 KB).</summary>
    private const long TailBytes = 16L << 20;

    /// <summary>
    /// How long before its id's time a record may have been scored: a folder image's id is made after its batch was
    /// scored and its heatmaps written; a submission's id before (when it arrived), which only moves its record later.
    /// </summary>
    private static readonly TimeSpan ScoredBeforeId = TimeSpan.FromMinutes(10);

    private static readonly byte[] LineStart = "{\"id\":\""u8.ToArray();

    private readonly string _path;
    private readonly JournalTail _lines;
    private readonly ILogger _log;
    private readonly object _lock = new();
    private readonly List<JournalEntry> _recent = [];
    private readonly Dictionary<string, JournalEntry> _recentById = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _search = new(1, 1);
    /// <summary>Bytes read: every complete line before this offset is in <see cref="_recent"/> or before <see cref="_start"/>.</summary>
    private long _read;
    /// <summary>Where the first record of <see cref="_recent"/> starts; records before it are searched for in the file.</summary>
    private long _start;

    public JournalReader(string path, ILogger<JournalReader> log)
    {
        _path = path;
        _lines = new JournalTail(path);
        _log = log;
    }

    /// <summary>The latest <paramref name="limit"/> records (at most <see cref="RecentCapacity"/>), oldest first.</summary>
    public IReadOnlyList<JournalEntry> Latest(int limit)
    {
        lock (_lock)
        {
            Refresh();
            return _recent.Skip(Math.Max(0, _recent.Count - limit)).ToArray();
        }
    }

    /// <summary>The record with this id, or null when the journal has none.</summary>
    public async Task<JournalEntry?> FindAsync(string id, CancellationToken cancel)
    {
        long start;
        lock (_lock)
        {
            Refresh();
            if (_recentById.TryGetValue(id, out var recent)) return recent;
            start = _start;
        }
        return start == 0 ? null : await SearchAsync(id, start, cancel).ConfigureAwait(false);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> records that follow the record <paramref name="id"/> in the journal, oldest first;
    /// null when there is no record with that id.
    /// </summary>
    public async Task<IReadOnlyList<JournalEntry>?> AfterAsync(string id, int limit, CancellationToken cancel)
    {
        long read;
        lock (_lock)
        {
            Refresh();
            if (_recentById.TryGetValue(id, out var recent))
            {
                int index = IndexOf(recent.Offset);
                return _recent.Skip(index + 1).Take(limit).ToArray();
            }
            read = _read;
        }
        var found = await FindAsync(id, cancel).ConfigureAwait(false);
        if (found is null) return null;
        return await Task.Run(() => ReadEntries(found.End, read, limit), cancel).ConfigureAwait(false);
    }

    /// <summary>Reads what was appended since the last call; keeps the latest records.</summary>
    private void Refresh()
    {
        var info = new FileInfo(_path);
        long length = info.Exists ? info.Length : 0;
        if (length < _read)
        {
            _log.JournalReplaced(_path, length, _read);
            _recent.Clear();
            _recentById.Clear();
            _read = _start = 0;
        }
        if (length == _read) return;
        if (_read == 0 && length > TailBytes)
            _read = _start = NextLineStart(length - TailBytes, length);
        foreach (var entry in ReadEntries(_read, length, int.MaxValue, e => _read = e))
        {
            _recent.Add(entry);
            _recentById[entry.Id] = entry;
        }
        if (_recent.Count > 2 * RecentCapacity)
        {
            int drop = _recent.Count - RecentCapacity;
            foreach (var old in _recent.Take(drop)) _recentById.Remove(old.Id);
            _recent.RemoveRange(0, drop);
        }
        _start = _recent.Count > 0 ? _recent[0].Offset : _read;
    }

    private int IndexOf(long offset)
    {
        int lo = 0, hi = _recent.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (_recent[mid].Offset == offset) return mid;
            if (_recent[mid].Offset < offset) lo = mid + 1;
            else hi = mid - 1;
        }
        return -1;
    }

    /// <summary>Finds a record that starts before <paramref name="before"/>: from where the bisection says, then the rest.</summary>
    private async Task<JournalEntry?> SearchAsync(string id, long before, CancellationToken cancel)
    {
        await _search.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            return await Task.Run(() =>
            {
                using var stream = Open();
                long from = MillisecondsOf(id) is { } ms ? Bisect(stream, DateTimeOffset.FromUnixTimeMilliseconds(ms) - ScoredBeforeId, before) : 0;
                return Scan(stream, id, from, before, cancel) ?? (from > 0 ? Scan(stream, id, 0, from, cancel) : null);
            }, cancel).ConfigureAwait(false);
        }
        finally
        {
            _search.Release();
        }
    }

    /// <summary>A line start in [0, <paramref name="before"/>) before which every record was scored before <paramref name="when"/> (0 when unsure).</summary>
    private static long Bisect(FileStream stream, DateTimeOffset when, long before)
    {
        long lo = 0, hi = before;
        while (hi - lo > 64 * 1024)
        {
            long mid = lo + (hi - lo) / 2;
            long line = NextLineStart(stream, mid, hi);
            if (line >= hi)
            {
                hi = mid;
                continue;
            }
            var scored = ScoredAt(ReadLine(stream, line, hi)?.Json);
            if (scored is { } at && at < when) lo = line;
            else hi = mid;
        }
        return lo;
    }

    /// <summary>The record <paramref name="id"/> if a line in [<paramref name="from"/>, <paramref name="to"/>) starts with it.</summary>
    private static JournalEntry? Scan(FileStream stream, string id, long from, long to, CancellationToken cancel)
    {
        byte[] pattern = Encoding.ASCII.GetBytes("{\"id\":\"" + id + "\"");
        byte[] buffer = new byte[1 << 20];
        long position = from;
        while (position < to)
        {
            cancel.ThrowIfCancellationRequested();
            int want = (int)Math.Min(buffer.Length, to - position + pattern.Length - 1);
            int got = ReadAt(stream, position, buffer.AsSpan(0, want));
            var span = buffer.AsSpan(0, got);
            int searched = 0;
            while (searched < span.Length)
            {
                int found = span[searched..].IndexOf(pattern);
                if (found < 0) break;
                int at = searched + found;
                long offset = position + at;
                if (offset >= to) break;
                if (offset == 0 || (at > 0 ? span[at - 1] : ByteAt(stream, offset - 1)) == (byte)'\n')
                    return ReadLine(stream, offset, long.MaxValue);
                searched = at + 1;
            }
            if (got < want) break;
            position += Math.Max(1, got - pattern.Length + 1); // overlap: a match across two chunks is found in the second
        }
        return null;
    }

    /// <summary>Records of the complete lines in [<paramref name="from"/>, <paramref name="to"/>), at most <paramref name="limit"/>.</summary>
    /// <param name="consumed">Told the offset past each complete line read, a bad one included.</param>
    private List<JournalEntry> ReadEntries(long from, long to, int limit, Action<long>? consumed = null)
    {
        var entries = new List<JournalEntry>();
        while (entries.Count < limit && from < to)
        {
            // The journal's one line reader (the MQTT publisher's too); lines that are not records are skipped.
            var lines = _lines.Read(from, to, Math.Min(limit - entries.Count, ReadLines));
            if (lines.Count == 0) break;
            foreach (var line in lines)
            {
                if (Parse(line.Bytes.Span, line.Start, line.End) is { } entry) entries.Add(entry);
                consumed?.Invoke(line.End);
            }
            from = lines[^1].End;
        }
        return entries;
    }

    private const int ReadLines = 4096;

    private static JournalEntry? ReadLine(FileStream stream, long offset, long limit)
    {
        var bytes = new List<byte>(2048);
        byte[] chunk = new byte[4096];
        long position = offset;
        while (position < limit)
        {
            int got = ReadAt(stream, position, chunk);
            if (got == 0) return null; // no newline yet: an append in progress
            int newline = chunk.AsSpan(0, got).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                bytes.AddRange(chunk.AsSpan(0, newline));
                return Parse(bytes.ToArray(), offset, position + newline + 1);
            }
            bytes.AddRange(chunk.AsSpan(0, got));
            position += got;
        }
        return null;
    }

    /// <summary>
    /// A line as an entry: the record's id is its first property (the journal's format), read without parsing the rest;
    /// a line that is not a record is skipped (the reconciler logs those).
    /// </summary>
    private static JournalEntry? Parse(ReadOnlySpan<byte> line, long offset, long end)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        if (!line.StartsWith(LineStart)) return null;
        var rest = line[LineStart.Length..];
        int quote = rest.IndexOf((byte)'"');
        if (quote <= 0 || line[^1] != (byte)'}') return null;
        return new JournalEntry(Encoding.UTF8.GetString(rest[..quote]), offset, end, Encoding.UTF8.GetString(line));
    }

    private static DateTimeOffset? ScoredAt(string? json)
    {
        if (json is null) return null;
        try
        {
            using var record = JsonDocument.Parse(json);
            return record.RootElement.TryGetProperty("scoredAt", out var scored) && scored.TryGetDateTimeOffset(out var at) ? at : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The milliseconds a version-7 GUID (32 hex digits, version nibble 7) was made at; null for any other id.</summary>
    public static long? MillisecondsOf(string id) =>
        id.Length == 32 && id[12] == '7' && long.TryParse(id.AsSpan(0, 12), System.Globalization.NumberStyles.AllowHexSpecifier, null, out long ms) ? ms : null;

    private long NextLineStart(long offset, long limit)
    {
        using var stream = Open();
        return NextLineStart(stream, offset, limit);
    }

    /// <summary>The first line start at or after <paramref name="offset"/> (<paramref name="limit"/> when there is none before it).</summary>
    private static long NextLineStart(FileStream stream, long offset, long limit)
    {
        if (offset == 0) return 0;
        byte[] chunk = new byte[4096];
        long position = offset - 1; // the line starts at offset if the byte before it ends a line
        while (position < limit)
        {
            int got = ReadAt(stream, position, chunk.AsSpan(0, (int)Math.Min(chunk.Length, limit - position)));
            if (got == 0) return limit;
            int newline = chunk.AsSpan(0, got).IndexOf((byte)'\n');
            if (newline >= 0) return Math.Min(limit, position + newline + 1);
            position += got;
        }
        return limit;
    }

    private static int ByteAt(FileStream stream, long offset)
    {
        Span<byte> one = stackalloc byte[1];
        return ReadAt(stream, offset, one) == 1 ? one[0] : -1;
    }

    private static int ReadAt(FileStream stream, long offset, Span<byte> buffer)
    {
        stream.Position = offset;
        int total = 0;
        while (total < buffer.Length)
        {
            int got = stream.Read(buffer[total..]);
            if (got == 0) break;
            total += got;
        }
        return total;
    }

    private FileStream Open() =>
        new(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1, FileOptions.RandomAccess);

    public void Dispose() => _search.Dispose();
}
