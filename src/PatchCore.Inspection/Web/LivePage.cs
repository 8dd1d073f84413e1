using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace PatchCore.Inspection.Web;

/// <summary>
/// The live page at <c>/</c>: one self-contained HTML file (its style and script inline, no build step) embedded in the
/// assembly. It reads only the API (/v1/status, /v1/results, heatmaps), so it shows what the journal holds. Served with
/// a Content-Security-Policy that allows exactly its own inline style and script (by their SHA-256) and nothing from
/// elsewhere: an image name is only ever put on the page as text, and even a mistake there could not run script.
/// </summary>
internal static class LivePage
{
    public const string ResourceName = "PatchCore.Inspection.Web.index.html";

    private static readonly Lazy<(byte[] Html, string Policy)> Page = new(Load);

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/", (HttpContext http) =>
            {
                var (html, policy) = Page.Value;
                http.Response.Headers.ContentSecurityPolicy = policy;
                http.Response.Headers.CacheControl = "no-cache";
                return Results.Bytes(html, "text/html; charset=utf-8");
            })
            .ExcludeFromDescription();

    private static (byte[], string) Load()
    {
        using var stream = typeof(LivePage).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The live page {ResourceName} is not embedded in the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string html = reader.ReadToEnd();
        string policy = $"default-src 'none'; script-src {Hash(html, "script")}; style-src {Hash(html, "style")}; " +
                        "img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        return (Encoding.UTF8.GetBytes(html), policy);
    }

    /// <summary>The CSP source of the page's one inline element <paramref name="tag"/>: the SHA-256 of its exact content.</summary>
    private static string Hash(string html, string tag)
    {
        string open = $"<{tag}>", close = $"</{tag}>";
        int start = html.IndexOf(open, StringComparison.Ordinal) + open.Length;
        int end = html.IndexOf(close, start, StringComparison.Ordinal);
        if (start < open.Length || end < 0 || html.IndexOf(open, end, StringComparison.Ordinal) >= 0)
            throw new InvalidOperationException($"The live page must hold exactly one <{tag}> element.");
        return $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(html[start..end])))}'";
    }
}
