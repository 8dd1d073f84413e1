using System.CommandLine;
using PatchCore.Core;
using PatchCore.Core.Native;

namespace PatchCore.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        NativeHeap.KeepLargeBlocks(); // large native blocks (the backbone's activations) reused, not mapped afresh per batch
        var root = new RootCommand("patchcore: PatchCore anomaly detection (build banks from good images, update them, score images, evaluate on MVTec-layout data, keep bank versions). " + ExitCodes.HelpText)
        {
            BuildCommand.Create(),
            UpdateCommand.Create(),
            ScoreCommand.Create(),
            EvalCommand.Create(),
            BankCommand.Create(),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) ConsoleUi.Error(e.Message);
            ConsoleUi.Info("Run 'patchcore --help' or 'patchcore COMMAND --help' for usage.");
            return ExitCodes.Usage;
        }
        return parse.Invoke();
    }

    /// <summary>Turns expected failures into a clear message and exit code; anything else is a bug and keeps its stack.</summary>
    internal static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (OperationCanceledException)
        {
            ConsoleUi.Error("interrupted");
            return ExitCodes.Cancelled;
        }
        catch (PatchCoreException ex)
        {
            ConsoleUi.Error(ex.Message);
            return ExitCodes.Failed;
        }
        catch (IOException ex)
        {
            ConsoleUi.Error(ex.Message);
            return ExitCodes.Failed;
        }
        catch (UnauthorizedAccessException ex)
        {
            ConsoleUi.Error(ex.Message);
            return ExitCodes.Failed;
        }
    }
}
