namespace PatchCore.Inspection.Intake;

/// <summary>A submission refused before anything of it was kept: nothing is in the inbox, no record will come.</summary>
internal sealed class SubmissionRefusedException : Exception
{
    public SubmissionRefusedException(SubmissionRefusal refusal, string message)
        : base(message)
    {
        Refusal = refusal;
    }

    public SubmissionRefusal Refusal { get; }
}
