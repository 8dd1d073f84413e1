using System.Collections.Concurrent;
using System.Text.Json;
using PatchCore.Core;
using PatchCore.Core.Scoring;
using PatchCore.Inspection.Banks;

namespace PatchCore.Inspection.Tests.Fakes;

/// <summary>
/// Loads <see cref="FakeBank"/> files into <see cref="FakeScorer"/>s that share one <see cref="ScorerScript"/>, and
/// keeps count of what is in memory: a scorer is in memory from its load until it is disposed.
/// </summary>
internal sealed class FakeBankLoader : IBankLoader
{
    private readonly ConcurrentQueue<FakeScorer> _loaded = new();
    private readonly object _gate = new();
    private double _maxLiveMb;
    private int _maxLive;

    public ScorerScript Script { get; } = new();

    /// <summary>Every scorer made so far, oldest first.</summary>
    public IReadOnlyList<FakeScorer> Loaded => _loaded.ToArray();

    /// <summary>The scorers not disposed yet.</summary>
    public IReadOnlyList<FakeScorer> Live => _loaded.Where(s => !s.IsDisposed).ToArray();

    /// <summary>The most megabytes (<see cref="FakeBank.MemoryMb"/>) ever in memory at once, counted at each load.</summary>
    public double MaxLiveMb
    {
        get { lock (_gate) return _maxLiveMb; }
    }

    /// <summary>The most scorers ever in memory at once, counted at each load.</summary>
    public int MaxLive
    {
        get { lock (_gate) return _maxLive; }
    }

    public IImageScorer Load(string path, DetectorOptions options)
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
        // As the detector does: the configured thresholds over the bank's, no review band when it is off.
        var thresholds = new Thresholds { Ng = bank.Threshold, Review = bank.Review }.With(options.Thresholds);
        if (!options.ReviewBand || thresholds.Review > thresholds.Ng) thresholds = thresholds with { Review = null };
        var scorer = new FakeScorer(bank.Id, thresholds, Script) { MemoryMb = bank.MemoryMb, Options = options };
        lock (_gate)
        {
            _loaded.Enqueue(scorer);
            var live = Live;
            _maxLiveMb = Math.Max(_maxLiveMb, live.Sum(s => s.MemoryMb));
            _maxLive = Math.Max(_maxLive, live.Count);
        }
        return scorer;
    }

    public long MemoryBytes(IImageScorer scorer) => (long)(((FakeScorer)scorer).MemoryMb * (1 << 20));
}
