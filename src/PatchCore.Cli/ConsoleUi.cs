using PatchCore.Core;
using Spectre.Console;

namespace PatchCore.Cli;

/// <summary>Console output: human-facing text and progress bars on stderr, so stdout stays machine-readable.</summary>
internal static class ConsoleUi
{
    public static IAnsiConsole Err { get; } = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Console.Error),
    });

    public static void Error(string message) => Console.Error.WriteLine($"error: {message}");

    // Plain text, not markup: Spectre would wrap long lines at the console width.
    public static void Info(string message) => Console.Error.WriteLine(message);

    /// <summary>Runs <paramref name="work"/> with one progress bar per reported phase.</summary>
    public static T WithProgress<T>(string[] phases, Func<IProgress<(string Phase, double Done, double Total)>, T> work)
    {
        if (!Err.Profile.Capabilities.Interactive)
        {
            // Non-interactive (CI, pipes): a line per phase step of 10 % instead of redrawing bars.
            var last = new Dictionary<string, int>();
            var plain = new SyncProgress<(string Phase, double Done, double Total)>(p =>
            {
                int decile = p.Total <= 0 ? 10 : (int)(10 * p.Done / p.Total);
                lock (last)
                {
                    if (last.TryGetValue(p.Phase, out int d) && d >= decile) return;
                    last[p.Phase] = decile;
                }
                Err.WriteLine($"{p.Phase}: {10 * decile}%");
            });
            return work(plain);
        }
        T result = default!;
        Err.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var tasks = phases.ToDictionary(p => p, p => ctx.AddTask(p, autoStart: false, maxValue: 1));
                var progress = new SyncProgress<(string Phase, double Done, double Total)>(p =>
                {
                    if (!tasks.TryGetValue(p.Phase, out var task)) return;
                    if (!task.IsStarted) task.StartTask();
                    task.MaxValue = Math.Max(p.Total, 1e-9);
                    task.Value = p.Done;
                    if (p.Done >= p.Total) task.StopTask();
                });
                result = work(progress);
                foreach (var t in tasks.Values) if (t.IsStarted) { t.Value = t.MaxValue; t.StopTask(); }
            });
        return result;
    }
}
