namespace PatchCore.Inspection.Outbox;

/// <summary>
/// Takes an image whose record is durable out of the inbox and to the place the record names; repeatable after a
/// crash at any point. An interface so tests can make a move fail (permission denied, a file removed meanwhile)
/// where running as root makes the real failure impossible to arrange.
/// </summary>
internal interface IImageMover
{
    /// <param name="sourceVerified">true right after scoring, when the inbox file is known to be this record's
    /// image; false during reconciliation, where the inbox file must match the record's hash.</param>
    /// <exception cref="IOException">A transient failure (disk full, I/O error): the caller retries.</exception>
    /// <exception cref="UnauthorizedAccessException">Permission denied: the caller retries.</exception>
    MoveOutcome Complete(InspectionRecord record, bool sourceVerified);
}
