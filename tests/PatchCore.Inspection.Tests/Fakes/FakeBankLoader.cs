using System.Collections.Concurrent;
using System.Text.Json;
using PatchCore.Core;
using PatchCore.Inspection.Banks;

namespace PatchCore.Inspection.Tests.Fakes;

/// <summary>Loads <see cref="FakeBank"/> files into <see cref="FakeScorer"/>s that share one <see cref="ScorerScript"/>.</summary>
public sealed class FakeBankLoader : IBankLoader
{
    private readonly ConcurrentQueue<FakeScorer> _loaded = new();

    public ScorerScript Script { get; } = new();

    /// <summary>Every scorer made so far, oldest first.</summary>
    public IReadOnlyList<FakeScorer> Loaded => _loaded.ToArray();

    public IImageScorer Load(string path)
    {
        FakeBank bank;
        try
        {
            bank = FakeBank.Read(path);
        }
        catch (JsonException e)
        {
            throw new PatchCoreException($"{path}: not a fake bank ({e.Message})");
        }
        var scorer = new FakeScorer(bank.Id, bank.Threshold, Script);
        _loaded.Enqueue(scorer);
        return scorer;
    }
}
