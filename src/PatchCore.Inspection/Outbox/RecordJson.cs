using System.Text.Json.Serialization;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Ownership;

namespace PatchCore.Inspection.Outbox;

/// <summary>Source-generated JSON for every file the daemon writes: results.jsonl, the checkpoint, health.json, the lock holders and the submission tickets.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(InspectionRecord))]
[JsonSerializable(typeof(BankSwitchEntry))]
[JsonSerializable(typeof(Checkpoint))]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(LockHolder))]
[JsonSerializable(typeof(Banks.FeedbackEvent))]
[JsonSerializable(typeof(Intake.SubmissionTicket))]
internal sealed partial class RecordJson : JsonSerializerContext;
