using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Web;

/// <summary>
/// The daemon's web surface (HTTP API, Prometheus metrics, OpenAPI document, live page), in the same Generic Host as
/// the folder worker: one process, one bank keeper, one scoring path, one journal. Only when
/// <c>Inspection:Http:Urls</c> is set does <see cref="InspectionHost"/> build a <see cref="WebApplication"/> and call
/// <see cref="AddInspectionWeb"/> and <see cref="MapInspectionWeb"/>; without it the daemon is the plain Generic Host it
/// always was, with nothing of ASP.NET Core started.
/// <para>
/// Metrics go out through the OpenTelemetry Prometheus exporter (OpenTelemetry.Exporter.Prometheus.AspNetCore): it reads
/// the System.Diagnostics.Metrics instruments the daemon already has (health.json reads the same ones) by meter name,
/// honours their histogram bucket advice, and names them by the OpenTelemetry rules (units as suffixes, counters
/// <c>_total</c>), so no second set of metrics is kept; prometheus-net would have meant its own registry fed by an
/// adapter that polls the instruments.
/// </para>
/// </summary>
internal static class InspectionWeb
{
    /// <summary>The library's meter (PatchCore.Core's scoring metrics: images scored, time per phase).</summary>
    public const string LibraryMeterName = "PatchCore";

    /// <summary>Whether the settings ask for HTTP (<c>Inspection:Http:Urls</c> is set).</summary>
    public static bool Requested(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[$"{HttpOptions.Section}:{nameof(HttpOptions.Urls)}"]);

    /// <summary>A builder for the daemon's host when it serves HTTP: the slim one (no IIS, no host filtering, no static files).</summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, string contentRoot)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = contentRoot });
        builder.WebHost.UseKestrelHttpsConfiguration(); // https:// URLs with Kestrel:Certificates:Default
        return builder;
    }

    /// <summary>The web surface's services: options, Kestrel, the journal reader, metrics, OpenAPI, health checks, the upload limit.</summary>
    public static void AddInspectionWeb(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<IValidateOptions<HttpOptions>, HttpOptionsValidator>();
        services.AddOptions<HttpOptions>().Bind(builder.Configuration.GetSection(HttpOptions.Section)).ValidateOnStart();

        var http = builder.Configuration.GetSection(HttpOptions.Section).Get<HttpOptions>() ?? new HttpOptions();
        builder.WebHost.UseUrls([.. http.UrlList]);
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<InspectionOptions>>((kestrel, inspection) =>
        {
            kestrel.AddServerHeader = false;
            // Only POST /v1/inspect takes a body, and an image may be no larger than this anywhere in the daemon.
            kestrel.Limits.MaxRequestBodySize = inspection.Value.MaxFileBytes;
        });

        services.AddSingleton(sp => new JournalReader(sp.GetRequiredService<Layout>().ResultsFile, sp.GetRequiredService<ILogger<JournalReader>>()));
        services.AddSingleton<InspectEndpoint>();
        services.AddSingleton<DaemonGauges>();
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, WebJson.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(1, RecordJson.Default);
        });
        services.AddProblemDetails();
        services.AddHealthChecks().AddCheck<DaemonReadiness>("daemon", tags: [DaemonReadiness.Tag]);
        services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "PatchCore inspection station";
            document.Info.Description = "Inspect images (joined to the station's batches, recorded in its journal), read results and heatmaps from the journal. " +
                                        "With Inspection:Http:ApiKey set, /v1 and /metrics need X-Api-Key or Authorization: Bearer.";
            return Task.CompletedTask;
        }));
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            limiter.AddPolicy(InspectEndpoint.PendingPolicy, context => RateLimitPartition.GetConcurrencyLimiter("uploads", _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = context.RequestServices.GetRequiredService<IOptions<HttpOptions>>().Value.MaxPending,
                QueueLimit = 0,
            }));
            limiter.OnRejected = (context, cancel) =>
            {
                var response = context.HttpContext.Response;
                RetryAfter.Set(response, context.HttpContext.RequestServices.GetRequiredService<InspectionTotalsCollector>());
                int pending = context.HttpContext.RequestServices.GetRequiredService<IOptions<HttpOptions>>().Value.MaxPending;
                context.HttpContext.RequestServices.GetRequiredService<ILogger<InspectEndpoint>>().UploadRefused(response.StatusCode, $"{pending} uploads wait already");
                return new ValueTask(Results.Problem($"{pending} uploads are waiting for their records already (Inspection:Http:MaxPending); try again after Retry-After seconds.",
                    statusCode: StatusCodes.Status503ServiceUnavailable, title: "Queue full").ExecuteAsync(context.HttpContext));
            };
        });
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("patchcore-inspection"))
            .WithMetrics(metrics => metrics
                .AddMeter(InspectionMetrics.MeterName, LibraryMeterName, "Microsoft.AspNetCore.Hosting")
                .AddPrometheusExporter(prometheus =>
                {
                    prometheus.ScrapeResponseCacheDurationMilliseconds = 0; // every scrape sees the journal's latest count
                    prometheus.ScopeInfoEnabled = false; // patchcore_images_total{product,verdict}, without otel_scope_* labels
                }));
    }

    /// <summary>The request pipeline and the endpoints. Resolves nothing before the host starts (options are validated at start).</summary>
    public static WebApplication MapInspectionWeb(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // Kestrel's refusals of a request (body too large, malformed) are the client's: their own 4xx, never a 500.
            StatusCodeSelector = e => e is Microsoft.AspNetCore.Http.BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            return next(context);
        });
        app.UseRouting();
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseRateLimiter();

        InspectEndpoint.Map(app);
        ResultsEndpoints.Map(app);
        FeedbackEndpoint.Map(app);
        app.MapGet("/v1/status", (HealthReports reports) => Results.Json(reports.Now(), RecordJson.Default.HealthReport))
            .WithName("Status").WithTags("station")
            .WithSummary("The station now: state, counts by verdict since start, backlog, each product's bank (what health.json holds)")
            .WithMetadata(RequiresApiKey.Instance);
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = DaemonReadiness.WriteAsync });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(DaemonReadiness.Tag), ResponseWriter = DaemonReadiness.WriteAsync });
        app.MapPrometheusScrapingEndpoint().WithMetadata(RequiresApiKey.Instance);
        app.MapOpenApi();
        LivePage.Map(app);

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            // Created once the options are validated: the bank and process gauges /metrics reads.
            app.Services.GetRequiredService<DaemonGauges>();
            var http = app.Services.GetRequiredService<IOptions<HttpOptions>>().Value;
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(InspectionWeb).FullName!).HttpListening(string.Join(", ", app.Urls),
                string.IsNullOrEmpty(http.ApiKey) ? "not required" : "required");
        });
        return app;
    }
}
