using System.Text;

namespace PatchCore.Inspection.Outbox;

/// <summary>results.jsonl: one JSON record per line, appended in whole batches and fsynced before any image moves.</summary>
internal sealed class ResultLog : IResultLog
{
    private readonly string _path;
    private readonly Func<string, FileStream> _openForAppend;

    public ResultLog(string path)
        : this(path, p => new FileStream(p, FileMode.Append, FileAccess.Write, FileShare.Read))
    {
    }

    /// <param name="openForAppend">Opens the file for appending; tests pass a stream that fails part way (disk full).</param>
    internal ResultLog(string path, Func<string, FileStream> openForAppend)
    {
        _path = path;
        _openForAppend = openForAppend;
    }

    public string FilePath => _path;

    public long Length => File.Exists(_path) ? new FileInfo(_path).Length : 0;

    /// <summary>
    /// Appends the records and fsyncs. A failed write (disk full) is cut back to the old length so a retry never
    /// leaves half a line. Returns the file length after the write.
    /// </summary>
    public long Append(IReadOnlyList<InspectionRecord> records)
    {
        var text = new StringBuilder();
        foreach (var record in records) text.Append(record.ToJsonLine()).Append('\n');
        return AppendText(text.ToString());
    }

    public long AppendEntries(IReadOnlyList<BankSwitchEntry> entries)
    {
        var text = new StringBuilder();
        foreach (var entry in entries) text.Append(entry.ToJsonLine()).Append('\n');
        return AppendText(text.ToString());
    }

    private long AppendText(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);

        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        long before = -1;
        try
        {
            using var stream = _openForAppend(_path);
            before = stream.Length;
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
            return stream.Length;
        }
        catch when (before >= 0)
        {
            TryTruncate(before);
            throw;
        }
    }

    /// <summary>
    /// A crash in the middle of an append leaves a last line without its newline: that record never counted
    /// (its image is still in the inbox and is scored again), so the torn bytes are cut off. Returns the bytes removed.
    /// </summary>
    public long RepairTornTail()
    {
        if (!File.Exists(_path)) return 0;
        using var stream = new FileStream(_path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        long length = stream.Length;
        if (length == 0) return 0;
        var buffer = new byte[64 * 1024];
        long end = length;
        while (end > 0)
        {
            int chunk = (int)Math.Min(buffer.Length, end);
            stream.Position = end - chunk;
            stream.ReadExactly(buffer, 0, chunk);
            int newline = Array.LastIndexOf(buffer, (byte)'\n', chunk - 1, chunk);
            if (newline >= 0)
            {
                long keep = end - chunk + newline + 1;
                if (keep == length) return 0;
                stream.SetLength(keep);
                stream.Flush(flushToDisk: true);
                return length - keep;
            }
            end -= chunk;
        }
        stream.SetLength(0);
        stream.Flush(flushToDisk: true);
        return length;
    }

    public IEnumerable<InspectionRecord> ReadFrom(long offset, Action<string> onBadLine)
    {
        if (!File.Exists(_path)) yield break;
        using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Position = Math.Min(offset, stream.Length);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || BankSwitchEntry.IsEntry(line)) continue;
            InspectionRecord? record = null;
            try { record = InspectionRecord.FromJsonLine(line); }
            catch (System.Text.Json.JsonException) { }
            if (record is null) onBadLine(line);
            else yield return record;
        }
    }

    private void TryTruncate(long length)
    {
        try
        {
            using var stream = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.Read);
            stream.SetLength(length);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
