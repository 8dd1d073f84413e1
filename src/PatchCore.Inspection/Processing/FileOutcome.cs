using PatchCore.Core;
using PatchCore.Inspection.Intake;

namespace PatchCore.Inspection.Processing;

/// <summary>
/// What became of one file of a batch once it was checked and scored: exactly one of <see cref="Vanished"/>,
/// <see cref="Quarantined"/> or <see cref="Scored"/>, so the record that follows is built from a case, never from a
/// combination of flags.
/// </summary>
internal abstract record FileOutcome(InboxFile File)
{
    /// <summary>Gone from the inbox before it was recorded (someone removed it): no record, nothing to move.</summary>
    public sealed record Vanished(InboxFile File) : FileOutcome(File);

    /// <summary>Could not be scored (empty, too large, unreadable, not an image, scoring failed): recorded and moved to quarantine with the reason.</summary>
    /// <param name="Kind">The reason's class for the metrics, one of <see cref="Observability.InspectionMetrics.QuarantineKinds"/>.</param>
    public sealed record Quarantined(InboxFile File, FileFacts Facts, string Reason, string Kind) : FileOutcome(File);

    /// <summary>Scored. Holds the scorer's result (with the decoded original, for the heatmap): dispose it once the heatmap is written.</summary>
    public sealed record Scored(InboxFile File, FileFacts Facts, ScoredFile Result) : FileOutcome(File), IDisposable
    {
        public double Score => Result.Detection!.Score;

        public void Dispose() => Result.Dispose();
    }
}
