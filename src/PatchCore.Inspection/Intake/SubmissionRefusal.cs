namespace PatchCore.Inspection.Intake;

/// <summary>Why <see cref="ImageSubmissions.SubmitAsync"/> refused a submission before anything of it was kept.</summary>
internal enum SubmissionRefusal
{
    /// <summary>No such product (or no default product for a submission without one).</summary>
    UnknownProduct,

    /// <summary>No bytes.</summary>
    Empty,

    /// <summary>More bytes than <c>Inspection:MaxFileBytes</c>.</summary>
    TooLarge,

    /// <summary>The name, source or metadata break the rules of <see cref="Submission"/>.</summary>
    Invalid,

    /// <summary>The daemon is stopping or its worker has failed: the image would not be inspected in this run.</summary>
    NotRunning,
}
