using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Intake;

/// <summary>
/// A submission that is durably in its product's inbox folder: from here on it gets exactly one record, in this run or,
/// after a crash, in the next. <see cref="Record"/> completes once that record is durable in results.jsonl and the image
/// lies where it says (the same record the journal holds: verdict quarantined with the reason for an image that could
/// not be scored). It faults with <see cref="FileNotFoundException"/> only if someone removed the file from the inbox
/// before it was recorded, and it never completes in this process if the daemon stops first (the image waits in the inbox for the next start, and its
/// record then has <see cref="Id"/>).
/// </summary>
internal sealed record SubmittedImage(string Id, string Product, string OriginalName, long Size, Task<InspectionRecord> Record);
