using System.Text.Json;

namespace PatchCore.Inspection.Tests.Fakes;

/// <summary>
/// The bank file the fake loader reads: a small JSON object, <c>{"id": "A", "threshold": 0.5, "review": 0.4, "memoryMb": 100}</c>.
/// <see cref="MemoryMb"/> is what the loader reports the bank to cost in memory, for the memory budget.
/// </summary>
internal sealed record FakeBank(string Id, double? Threshold, double? Review = null, double MemoryMb = 0)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Writes beside the target and renames over it, as the bank builder does (what hot reload expects).</summary>
    public static void Write(string path, string id, double? threshold, double? review = null, double memoryMb = 0)
    {
        string temp = path + ".new";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(new FakeBank(id, threshold, review, memoryMb), Json));
        File.Move(temp, path, overwrite: true);
    }

    public static FakeBank Read(string path) =>
        JsonSerializer.Deserialize<FakeBank>(File.ReadAllBytes(path), Json) ?? throw new JsonException("null");
}
