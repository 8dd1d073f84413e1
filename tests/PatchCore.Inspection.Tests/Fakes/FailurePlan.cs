using System.Collections.Concurrent;

namespace PatchCore.Inspection.Tests.Fakes;

/// <summary>Which calls of a decorated operation throw, and what. Thread-safe; calls are numbered from 1.</summary>
internal sealed class FailurePlan
{
    private readonly ConcurrentDictionary<int, Func<Exception>> _failures = new();
    private int _calls, _failed;

    public int Calls => Volatile.Read(ref _calls);
    public int Failed => Volatile.Read(ref _failed);

    public void FailCalls(Func<Exception> exception, params int[] callNumbers)
    {
        foreach (int n in callNumbers) _failures[n] = exception;
    }

    /// <summary>Counts a call; throws when the plan says this one fails.</summary>
    public void Next()
    {
        if (NextFails(out var planned)) throw planned;
    }

    /// <summary>Counts a call; true (with the exception planned) when this one fails, for callers that fail their own way.</summary>
    public bool NextFails(out Exception exception)
    {
        int n = Interlocked.Increment(ref _calls);
        exception = null!;
        if (!_failures.TryGetValue(n, out var make)) return false;
        Interlocked.Increment(ref _failed);
        exception = make();
        return true;
    }

    public static IOException DiskFull() => new("No space left on device");

    public static UnauthorizedAccessException PermissionDenied() => new("Access to the path is denied (permission denied).");
}
