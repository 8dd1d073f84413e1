using System.Globalization;
using PatchCore.Core;
using PatchCore.Core.Scoring;

namespace PatchCore.Inspection.Tests.Fakes;

/// <summary>
/// A scorer without TorchSharp: an "image" is a text file holding its score ("0.7"); anything else is not an image.
/// Keeps <see cref="IImageScorer"/>'s contract: lazy, one result per path in input order, a named error per bad file,
/// throws only when broken as a whole (<see cref="ScorerScript.FailNextCalls"/>).
/// </summary>
internal sealed class FakeScorer : IImageScorer
{
    private readonly ScorerScript _script;
    private int _disposed;

    public FakeScorer(string bankId, Thresholds thresholds, ScorerScript script)
    {
        BankId = bankId;
        Thresholds = thresholds;
        _script = script;
    }

    public string BankId { get; }
    public Thresholds Thresholds { get; }

    /// <summary>What the loader says this bank costs in memory (<see cref="FakeBank.MemoryMb"/>).</summary>
    public double MemoryMb { get; init; }

    /// <summary>The detector settings it was loaded with (a product's overrides applied).</summary>
    public DetectorOptions Options { get; init; } = new();
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public IEnumerable<ScoredFile> ScoreFiles(IReadOnlyList<string> paths, bool keepOriginals = false, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return Score(paths, ct);
    }

    private IEnumerable<ScoredFile> Score(IReadOnlyList<string> paths, CancellationToken ct)
    {
        _script.Called(paths, BankId);
        _script.BeforeScoring(paths);
        if (_script.TakeCallFailure()) throw new InvalidOperationException("the fake scorer is broken (as planned by the test)");
        for (int i = 0; i < paths.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            yield return ScoreOne(i, paths[i]);
        }
    }

    private ScoredFile ScoreOne(int index, string path)
    {
        if (!File.Exists(path)) return ScoredFile.Failed(index, path, "file not found");
        if (_script.ThrowsOn(path) is { } message)
            return ScoredFile.Failed(index, path, $"scoring failed (InvalidOperationException): {message}", new InvalidOperationException(message));
        if (!double.TryParse(File.ReadAllText(path).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double score))
            return ScoredFile.Failed(index, path, "not an image (the fake scorer reads a number)");
        var map = new AnomalyMap(1, 1, [(float)score]);
        return ScoredFile.Scored(index, path, new Detection(path, score, 1, 1, [(float)score], map), ScoreTimings.Zero, verdict: Thresholds.VerdictOf(score));
    }

    public void WriteHeatmap(ScoredFile scored, string pngPath)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this); // a bank unloaded in the middle of its batch
        _script.BeforeHeatmap(scored.Path);
        if (_script.TakeHeatmapFailure()) throw new IOException("No space left on device");
        File.WriteAllText(pngPath, string.Create(CultureInfo.InvariantCulture, $"heatmap of {scored.Path}: {scored.Detection!.Score} against {Thresholds.Ng}"));
        _script.HeatmapWritten();
    }

    public void WriteDefectMask(ScoredFile scored, string pngPath)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        File.WriteAllText(pngPath, $"defect mask of {scored.Path}: {scored.Regions?.Count ?? 0} regions");
    }

    public void Dispose() => Interlocked.Exchange(ref _disposed, 1);
}
