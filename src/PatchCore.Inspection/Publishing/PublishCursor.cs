using System.Text.Json;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Publishing;

/// <summary>
/// How far results.jsonl has been published: <see cref="Offset"/> is the byte just past the last record the broker
/// acknowledged (PUBACK) in an unbroken run from the journal's start, <see cref="LastId"/> that record's id. Written
/// (atomically, fsynced) only after the acknowledgements, so after a crash publishing resumes at or before the first
/// record the broker has not acknowledged: a record may be published twice, never skipped.
/// </summary>
internal sealed record PublishCursor(long Offset, string? LastId, DateTimeOffset UpdatedAt)
{
    public const string FileName = "mqtt-cursor.json";

    public static readonly PublishCursor Start = new(0, null, DateTimeOffset.MinValue);

    /// <summary>The cursor in <paramref name="path"/>; <see cref="Start"/> when there is none.</summary>
    /// <exception cref="JsonException">The file is not a cursor (it is written atomically, so it was edited by hand).</exception>
    public static PublishCursor Read(string path)
    {
        if (!File.Exists(path)) return Start;
        var cursor = JsonSerializer.Deserialize(File.ReadAllBytes(path), PublishingJson.Default.PublishCursor);
        if (cursor is null || cursor.Offset < 0) throw new JsonException($"{path} does not hold a publishing cursor.");
        return cursor;
    }

    public void Write(string path) =>
        Durable.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(this with { UpdatedAt = DateTimeOffset.UtcNow }, PublishingJson.Default.PublishCursor));
}
