using System.Collections.Concurrent;
using System.Text.Json;
using PatchCore.Core;
using PatchCore.Core.Scoring;
using PatchCore.Inspection.Banks;

namespace PatchCore.Inspection.Tests.Fakes;

/// <summary>Loads <see cref="FakeBank"/> files into <see cref="FakeScorer"/>s that share one <see cref="ScorerScript"/>.</summary>
public sealed class FakeBankLoader : IBankLoader
{
    private readonly ConcurrentQueue<FakeScorer> _loaded = new();
    private DetectorOptions _options = new();

    public ScorerScript Script { get; } = new();

    /// <summary>Every scorer made so far, oldest first.</summary>
    public IReadOnlyList<FakeScorer> Loaded => _loaded.ToArray();

    /// <summary>Loads with these options' thresholds from now on (the daemon's configuration).</summary>
    public FakeBankLoader With(DetectorOptions options)
    {
        _options = options;
        return this;
    }

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
        // As the detector does: the configured thresholds over the bank's, no review band when it is off.
        var thresholds = new Thresholds { Ng = bank.Threshold, Review = bank.Review }.With(_options.Thresholds);
        if (!_options.ReviewBand || thresholds.Review > thresholds.Ng) thresholds = thresholds with { Review = null };
        var scorer = new FakeScorer(bank.Id, thresholds, Script);
        _loaded.Enqueue(scorer);
        return scorer;
    }
}
