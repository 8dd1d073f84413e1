namespace PatchCore.Cli;

/// <summary>The command's exit codes (also listed in README and in --help).</summary>
public static class ExitCodes
{
    /// <summary>Everything asked for was done.</summary>
    public const int Ok = 0;
    /// <summary>The command failed: bad bank, bad training data, bad option value, missing files.</summary>
    public const int Failed = 1;
    /// <summary>The command line could not be parsed (unknown option, missing value).</summary>
    public const int Usage = 2;
    /// <summary>score: some images could not be scored (each has an error line); the others were.</summary>
    public const int SomeImagesFailed = 3;
    /// <summary>Interrupted (Ctrl+C).</summary>
    public const int Cancelled = 130;

    public const string HelpText = "Exit codes: 0 ok; 1 failed (bad bank, data or option value); 2 bad command line; 3 some images could not be scored; 130 interrupted.";
}
