namespace PatchCore.Inspection.Outbox;

/// <summary>What <see cref="IImageMover.Complete"/> found and did.</summary>
internal enum MoveOutcome
{
    /// <summary>The image was moved (from the inbox or from staging) to the record's path.</summary>
    Moved,

    /// <summary>The image already lay at the record's path (a move finished before a crash).</summary>
    AlreadyThere,

    /// <summary>The image is nowhere: it was removed from the inbox after its record was written.</summary>
    Vanished,
}
