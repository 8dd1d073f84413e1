using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PatchCore.Inspection.Observability;

namespace PatchCore.Inspection.Web;

/// <summary>
/// With <c>Inspection:Http:ApiKey</c> set, answers 401 to a request for an endpoint marked <see cref="RequiresApiKey"/>
/// that carries no valid key (<c>X-Api-Key: KEY</c> or <c>Authorization: Bearer KEY</c>). Written here rather than
/// through ASP.NET Core's authentication handlers because one shared key has no users, claims or schemes to model.
/// Keys are compared in constant time over their SHA-256, so neither their content nor their length leaks by timing.
/// Runs after routing, before the endpoint: a refused upload is never read.
/// </summary>
internal sealed class ApiKeyMiddleware
{
    private readonly RequestDelegate _next;
    private readonly byte[]? _keyHash;
    private readonly ILogger<ApiKeyMiddleware> _log;

    public ApiKeyMiddleware(RequestDelegate next, IOptions<HttpOptions> options, ILogger<ApiKeyMiddleware> log)
    {
        _next = next;
        _keyHash = options.Value.ApiKey is { Length: > 0 } key ? SHA256.HashData(Encoding.UTF8.GetBytes(key)) : null;
        _log = log;
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (_keyHash is null || context.GetEndpoint()?.Metadata.GetMetadata<RequiresApiKey>() is null || Valid(context.Request))
            return _next(context);
        _log.ApiKeyRefused(context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress?.ToString());
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "API key required",
            detail: "This endpoint needs the daemon's API key (Inspection:Http:ApiKey) in X-Api-Key or Authorization: Bearer.").ExecuteAsync(context);
    }

    private bool Valid(HttpRequest request)
    {
        string? given = request.Headers["X-Api-Key"].FirstOrDefault();
        if (given is null && request.Headers.Authorization.FirstOrDefault() is { } authorization &&
            authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            given = authorization["Bearer ".Length..].Trim();
        return given is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), _keyHash);
    }
}
