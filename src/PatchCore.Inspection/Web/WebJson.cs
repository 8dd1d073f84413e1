using System.Text.Json;
using System.Text.Json.Serialization;

namespace PatchCore.Inspection.Web;

/// <summary>Source-generated JSON of the HTTP API's own answers (the records and the status are the journal's and health.json's, <see cref="Outbox.RecordJson"/>).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(QueuedSubmission))]
[JsonSerializable(typeof(ResultsPage))]
[JsonSerializable(typeof(FeedbackAccepted))]
[JsonSerializable(typeof(string))]
internal sealed partial class WebJson : JsonSerializerContext;
