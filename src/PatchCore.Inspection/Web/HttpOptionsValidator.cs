using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace PatchCore.Inspection.Web;

/// <summary>
/// Checks <c>Inspection:Http</c> before anything listens: every URL is http or https with a host and a port, a key is
/// set when any of them reaches beyond loopback (a station's results and its upload endpoint are not for the whole
/// plant network to use unasked), and the numbers are in range. Every message names the key it is about.
/// </summary>
internal sealed class HttpOptionsValidator : IValidateOptions<HttpOptions>
{
    public const int MinKeyLength = 16;

    public ValidateOptionsResult Validate(string? name, HttpOptions o)
    {
        var errors = new List<string>();
        var beyondLoopback = new List<string>();
        foreach (string url in o.UrlList)
        {
            BindingAddress address;
            try
            {
                address = BindingAddress.Parse(url);
            }
            catch (FormatException e)
            {
                errors.Add($"Inspection:Http:Urls: '{url}' is not a URL to listen on ({e.Message}); use e.g. http://127.0.0.1:8080.");
                continue;
            }
            if (address.IsUnixPipe || address.Scheme is not ("http" or "https"))
                errors.Add($"Inspection:Http:Urls: '{url}' must be http:// or https:// with a host and a port, e.g. http://127.0.0.1:8080.");
            else if (address.PathBase.Length > 0)
                errors.Add($"Inspection:Http:Urls: '{url}' has a path ({address.PathBase}); the API is served at the root.");
            else if (!IsLoopback(address.Host))
                beyondLoopback.Add(url);
        }
        if (beyondLoopback.Count > 0 && string.IsNullOrEmpty(o.ApiKey))
            errors.Add($"Inspection:Http:ApiKey is required when Inspection:Http:Urls listens beyond loopback ({string.Join(", ", beyondLoopback)}): " +
                       "set a key of at least 16 characters (environment Inspection__Http__ApiKey), or listen on 127.0.0.1 only.");
        if (o.ApiKey is { Length: > 0 } key && (key.Length < MinKeyLength || key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
            errors.Add($"Inspection:Http:ApiKey must be at least {MinKeyLength} characters without spaces or control characters (got {key.Length} characters).");
        if (o.MaxPending is < 1 or > 100_000)
            errors.Add($"Inspection:Http:MaxPending must be between 1 and 100000 (got {o.MaxPending}).");
        if (o.RecordTimeoutMs is < 100 or > 3_600_000)
            errors.Add($"Inspection:Http:RecordTimeoutMs must be between 100 and 3600000 (got {o.RecordTimeoutMs}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>localhost, 127.0.0.0/8 and ::1; a wildcard (*, +, 0.0.0.0, [::]) or any other name or address is not.</summary>
    public static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ||
        (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
