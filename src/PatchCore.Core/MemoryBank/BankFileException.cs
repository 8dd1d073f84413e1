namespace PatchCore.Core.MemoryBank;

/// <summary>A bank file could not be used: missing, truncated, corrupted, foreign, of another version or model.</summary>
public sealed class BankFileException : PatchCoreException
{
    public BankFileException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner ?? new InvalidDataException(problem)) { Path = path; Problem = problem; }

    public string Path { get; }
    public string Problem { get; }
}
