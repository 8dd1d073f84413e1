namespace PatchCore.Inspection.Outbox;

/// <summary>
/// Reads results.jsonl from a byte offset, whole lines only (a line without its newline is an append still in progress,
/// or one torn by a crash that the reconciler cuts off), and never past the bound it is given. The journal is opened
/// for each read and shared for writing, so the daemon's appends never wait for the publisher.
/// </summary>
internal sealed class JournalTail
{
    private const int FirstChunk = 256 << 10;

    public JournalTail(string path) => FilePath = path;

    public string FilePath { get; }

    public long Length => File.Exists(FilePath) ? new FileInfo(FilePath).Length : 0;

    /// <summary>Up to <paramref name="maxLines"/> whole lines that start at <paramref name="from"/> or after and end by <paramref name="to"/>.</summary>
    public List<JournalLine> Read(long from, long to, int maxLines)
    {
        var lines = new List<JournalLine>();
        if (to <= from || !File.Exists(FilePath)) return lines;
        using var stream = Open();
        to = Math.Min(to, stream.Length);
        int chunk = FirstChunk;
        while (from < to && lines.Count < maxLines)
        {
            int want = (int)Math.Min(chunk, to - from);
            var buffer = new byte[want];
            stream.Position = from;
            int got = stream.ReadAtLeast(buffer, want, throwOnEndOfStream: false);
            var span = buffer.AsSpan(0, got);
            int start = 0, found = 0;
            while (lines.Count < maxLines && span[start..].IndexOf((byte)'\n') is var newline and >= 0)
            {
                lines.Add(new JournalLine(from + start, from + start + newline + 1, buffer.AsMemory(start, newline)));
                start += newline + 1;
                found++;
            }
            if (found == 0)
            {
                // A line longer than the chunk (a record with very many regions): read again with room for it.
                if (got < want || want == to - from) break;
                chunk = checked(chunk * 2);
                continue;
            }
            from += start;
        }
        return lines;
    }

    /// <summary>How many newlines lie in [<paramref name="from"/>, <paramref name="to"/>), and the offset just past the last one (<paramref name="from"/> if none).</summary>
    public (long Lines, long End) CountLines(long from, long to)
    {
        if (to <= from || !File.Exists(FilePath)) return (0, from);
        using var stream = Open();
        to = Math.Min(to, stream.Length);
        stream.Position = from;
        var buffer = new byte[FirstChunk];
        long lines = 0, end = from, position = from;
        while (position < to)
        {
            int got = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, to - position));
            if (got == 0) break;
            var span = buffer.AsSpan(0, got);
            int count = span.Count((byte)'\n');
            if (count > 0)
            {
                lines += count;
                end = position + span.LastIndexOf((byte)'\n') + 1;
            }
            position += got;
        }
        return (lines, end);
    }

    /// <summary>
    /// The line whose newline is the byte just before <paramref name="offset"/>, without that newline; null when
    /// <paramref name="offset"/> is 0, past the end, or not just after a newline (then it is not where a line ends).
    /// </summary>
    public byte[]? LineEndingAt(long offset)
    {
        if (offset <= 0 || !File.Exists(FilePath)) return null;
        using var stream = Open();
        if (offset > stream.Length) return null;
        stream.Position = offset - 1;
        if (stream.ReadByte() != '\n') return null;
        // Back from the newline to the one before it (or the file's start), a chunk at a time.
        long end = offset - 1, start = end;
        var buffer = new byte[FirstChunk];
        while (start > 0)
        {
            int take = (int)Math.Min(buffer.Length, start);
            stream.Position = start - take;
            stream.ReadExactly(buffer, 0, take);
            int newline = buffer.AsSpan(0, take).LastIndexOf((byte)'\n');
            if (newline >= 0)
            {
                start = start - take + newline + 1;
                break;
            }
            start -= take;
        }
        var line = new byte[end - start];
        stream.Position = start;
        stream.ReadExactly(line);
        return line;
    }

    private FileStream Open() => new(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
}
