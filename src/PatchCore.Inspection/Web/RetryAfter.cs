using Microsoft.AspNetCore.Http;
using PatchCore.Inspection.Observability;

namespace PatchCore.Inspection.Web;

/// <summary>The Retry-After of a 503: about how long the daemon needs for what waits now (backlog x time per image), 1 to 60 s.</summary>
internal static class RetryAfter
{
    public static int Seconds(InspectionTotals totals) =>
        (int)Math.Clamp(Math.Ceiling(totals.Backlog * Math.Max(totals.MsPerImage, 100) / 1000), 1, 60);

    public static void Set(HttpResponse response, InspectionTotalsCollector totals) =>
        response.Headers.RetryAfter = Seconds(totals.Snapshot()).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
