namespace PatchCore.Inspection.Processing;

/// <summary>Set when the worker dies of an unexpected error, so the process exits non-zero.</summary>
internal sealed class WorkerFault
{
    public Exception? Error { get; private set; }
    public void Fail(Exception e) => Error = e;
}
