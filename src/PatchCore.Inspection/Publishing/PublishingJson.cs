using System.Text.Json.Serialization;

namespace PatchCore.Inspection.Publishing;

/// <summary>Source-generated JSON for the publisher's cursor file and the retained status message.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PublishCursor))]
[JsonSerializable(typeof(StationStatus))]
internal sealed partial class PublishingJson : JsonSerializerContext;
