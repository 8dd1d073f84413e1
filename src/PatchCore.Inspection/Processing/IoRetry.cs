using Microsoft.Extensions.Logging;
using PatchCore.Inspection.Observability;

namespace PatchCore.Inspection.Processing;

/// <summary>
/// Retries file-system work that fails for reasons that pass (disk full, permissions, a busy network share) with
/// exponential backoff, forever: nothing is dropped. Only <paramref name="abort"/> (the host's shutdown deadline)
/// ends the wait; the restart's reconciliation then finishes the work.
/// </summary>
internal sealed class IoRetry
{
    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(30);
    private readonly ILogger _log;
    private readonly DaemonStatus _status;

    public IoRetry(ILogger<IoRetry> log, DaemonStatus status)
    {
        _log = log;
        _status = status;
    }

    public async Task<T> RunAsync<T>(string what, Func<T> action, CancellationToken abort)
    {
        var delay = First;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return action();
            }
            catch (Exception e) when (IsTransient(e))
            {
                _status.ReportError(InspectionMetrics.ErrorTypes.Io, $"{what}: {e.Message}");
                _log.Retrying(e, what, attempt, e.Message, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, abort).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(Max.Ticks, delay.Ticks * 2));
            }
        }
    }

    public Task RunAsync(string what, Action action, CancellationToken abort) =>
        RunAsync<bool>(what, () => { action(); return true; }, abort);

    /// <summary>Disk full, permission denied, I/O errors. A missing source file is not transient: callers handle it.</summary>
    public static bool IsTransient(Exception e) =>
        e is UnauthorizedAccessException || (e is IOException && e is not FileNotFoundException);
}
