using System.Collections.Concurrent;

namespace PatchCore.Inspection.Tests.Fakes;

/// <summary>
/// What the fake scorers do wrong on purpose, and what they saw. One script is shared by every scorer a
/// <see cref="FakeBankLoader"/> makes, so it survives a hot reload. Thread-safe: the daemon's worker calls it while
/// the test sets it up and reads it.
/// </summary>
internal sealed class ScorerScript
{
    private readonly ConcurrentQueue<string[]> _calls = new();
    private readonly ConcurrentQueue<(string, string[])> _callsByBank = new();
    private int _failingCalls, _failingHeatmaps, _heatmapsWritten;

    /// <summary>The file lists ScoreFiles was called with, in order (a failed call included).</summary>
    public IReadOnlyList<string[]> Calls => _calls.ToArray();

    public int HeatmapsWritten => Volatile.Read(ref _heatmapsWritten);

    /// <summary>The next <paramref name="count"/> ScoreFiles calls throw outright (a broken scorer, not a bad file).</summary>
    public void FailNextCalls(int count) => Volatile.Write(ref _failingCalls, count);

    /// <summary>The next <paramref name="count"/> heatmap writes throw "No space left on device".</summary>
    public void FailNextHeatmaps(int count) => Volatile.Write(ref _failingHeatmaps, count);

    /// <summary>Returns a message for a file the scorer throws on (the library turns that into that file's error), else null.</summary>
    public Func<string, string?> ThrowsOn { get; set; } = _ => null;

    /// <summary>Runs before each heatmap is written, with the scored file's path (a test blocks here to make a slow writer).</summary>
    public Action<string> BeforeHeatmap { get; set; } = _ => { };

    /// <summary>Runs when a ScoreFiles enumeration starts, before any file is read.</summary>
    public Action<IReadOnlyList<string>> BeforeScoring { get; set; } = _ => { };

    internal void Called(IReadOnlyList<string> paths, string bankId)
    {
        _calls.Enqueue(paths.ToArray());
        _callsByBank.Enqueue((bankId, paths.ToArray()));
    }

    /// <summary>The file lists ScoreFiles was called with and the bank that was called, in order.</summary>
    public IReadOnlyList<(string BankId, string[] Paths)> CallsByBank => _callsByBank.ToArray();

    internal bool TakeCallFailure() => TakeOne(ref _failingCalls);

    internal bool TakeHeatmapFailure() => TakeOne(ref _failingHeatmaps);

    internal void HeatmapWritten() => Interlocked.Increment(ref _heatmapsWritten);

    private static bool TakeOne(ref int counter)
    {
        while (true)
        {
            int left = Volatile.Read(ref counter);
            if (left <= 0) return false;
            if (Interlocked.CompareExchange(ref counter, left - 1, left) == left) return true;
        }
    }
}
