namespace PatchCore.Inspection.Web;

/// <summary>Endpoint metadata: with <c>Inspection:Http:ApiKey</c> set, a request to this endpoint needs the key (<see cref="ApiKeyMiddleware"/>).</summary>
internal sealed class RequiresApiKey
{
    public static readonly RequiresApiKey Instance = new();

    private RequiresApiKey()
    {
    }
}
