using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Tests.Fakes;

/// <summary>The real mover, with failures on chosen calls and a hook before each move (to remove the image meanwhile).</summary>
internal sealed class FailingImageMover(IImageMover inner) : IImageMover
{
    public FailurePlan Plan { get; } = new();

    public Action<InspectionRecord> BeforeMove { get; set; } = _ => { };

    public MoveOutcome Complete(InspectionRecord record, bool sourceVerified)
    {
        BeforeMove(record);
        Plan.Next();
        return inner.Complete(record, sourceVerified);
    }
}
