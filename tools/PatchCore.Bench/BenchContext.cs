using PatchCore.Core;
using PatchCore.Core.Evaluation;
using PatchCore.Core.Embedding;

namespace PatchCore.Bench;

/// <summary>
/// What several sections share, made on first use: the category's file lists, one feature pipeline (batch 8) and
/// the bottle candidates with their coreset. Owns them; dispose it.
/// </summary>
internal sealed class BenchContext(BenchSettings settings) : IDisposable
{
    private MvtecCategory? _category;
    private FeaturePipeline? _pipeline;
    private BottleCandidates? _candidates;

    public BenchSettings Settings { get; } = settings;

    public bool HasData => Directory.Exists(Path.Combine(Settings.CategoryDir, "train", "good")) && Directory.Exists(Path.Combine(Settings.CategoryDir, "test"));

    public MvtecCategory Category => _category ??= MvtecCategory.Load(Settings.CategoryDir);

    public IReadOnlyList<string> TrainImages => Category.TrainGood.Where((_, i) => i % Settings.TrainStride == 0).ToArray();

    public IReadOnlyList<MvtecTestItem> TestImages => Category.Test.Where((_, i) => i % Settings.TestStride == 0).ToArray();

    public FeaturePipeline Pipeline => _pipeline ??= new FeaturePipeline(BenchSettings.Model(batchSize: 8));

    /// <summary>Candidate embeddings of <see cref="TrainImages"/> (extracted on first use).</summary>
    public BottleCandidates Candidates => _candidates ??= BottleCandidates.Extract(Pipeline, TrainImages);

    /// <summary>The fast coreset of <see cref="Candidates"/> (selected on first use unless a section sets it).</summary>
    public long[] Coreset
    {
        get => _coreset ??= Candidates.SelectCoreset();
        set => _coreset = value;
    }

    private long[]? _coreset;

    public void Dispose()
    {
        _candidates?.Dispose();
        _pipeline?.Dispose();
    }
}
