using System.Text.Json;

namespace PatchCore.Inspection.Outbox;

/// <summary>
/// Byte offset of results.jsonl up to which every record's image has reached its place. Records after it are the
/// journal of moves that may still be pending; it is advanced after each batch and after reconciliation.
/// </summary>
internal sealed record Checkpoint(long ResultsOffset, DateTimeOffset UpdatedAt)
{
    public static long Read(string path)
    {
        if (!File.Exists(path)) return 0;
        try
        {
            var checkpoint = JsonSerializer.Deserialize(File.ReadAllBytes(path), RecordJson.Default.Checkpoint);
            return Math.Max(0, checkpoint?.ResultsOffset ?? 0);
        }
        catch (JsonException)
        {
            // Written atomically, so a bad file was edited by hand: re-examining every record is safe, only slower.
            return 0;
        }
    }

    public static void Write(string path, long offset) =>
        Durable.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(new Checkpoint(offset, DateTimeOffset.UtcNow), RecordJson.Default.Checkpoint));
}
