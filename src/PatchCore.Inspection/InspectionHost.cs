using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PatchCore.Core;
using PatchCore.Core.Devices;
using PatchCore.Core.Scoring;
using PatchCore.Core.Search;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;
using PatchCore.Inspection.Ownership;
using PatchCore.Inspection.Processing;
using PatchCore.Inspection.Publishing;
using PatchCore.Inspection.Web;

namespace PatchCore.Inspection;

/// <summary>Builds the daemon's Generic Host; Program runs it, tests run it in-process.</summary>
internal static class InspectionHost
{
    public const string ConfigFileKey = "ConfigFile";
    public const string ConfigFileVariable = "PATCHCORE_INSPECTION_CONFIG";

    /// <summary>
    /// Configuration, lowest to highest priority: configs/inspection.json (copied beside the program; another file
    /// with --ConfigFile=PATH or PATCHCORE_INSPECTION_CONFIG), environment variables (Inspection__Inbox), command line
    /// (--Inspection:Inbox=DIR).
    /// </summary>
    /// <param name="services">
    /// Runs after the daemon's own registrations, so a registration made here replaces the daemon's: tests put a fake
    /// <see cref="IBankLoader"/> here, or an <see cref="IResultLog"/> / <see cref="IImageMover"/> that fails on purpose.
    /// </param>
    public static IHost Build(string[] args, Action<ILoggingBuilder>? logging = null, Action<IServiceCollection>? services = null)
    {
        // HTTP only when asked for (Inspection:Http:Urls): then the host is a WebApplication, Kestrel in the same Generic
        // Host as the worker; else it is the plain Generic Host it always was, with nothing of ASP.NET Core loaded.
        var settings = new ConfigurationManager();
        settings.AddEnvironmentVariables().AddCommandLine(args);
        AddSettings(settings, args);
        IHostApplicationBuilder builder = InspectionWeb.Requested(settings)
            ? InspectionWeb.CreateBuilder(args, AppContext.BaseDirectory)
            : Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        AddSettings(builder.Configuration, args);

        builder.Services.AddSystemd();
        logging?.Invoke(builder.Logging);

        int shutdownMs = builder.Configuration.GetValue<int?>($"{InspectionOptions.Section}:{nameof(InspectionOptions.ShutdownTimeoutMs)}") ?? 30000;
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromMilliseconds(Math.Max(1000, shutdownMs)));

        builder.Services.AddSingleton<IValidateOptions<InspectionOptions>, InspectionOptionsValidator>();
        builder.Services.AddOptions<InspectionOptions>()
            .Bind(builder.Configuration.GetSection(InspectionOptions.Section))
            .ValidateOnStart();
        AddDaemon(builder.Services);
        if (builder is WebApplicationBuilder web) web.AddInspectionWeb();
        services?.Invoke(builder.Services);
        return builder is WebApplicationBuilder webBuilder ? webBuilder.Build().MapInspectionWeb() : ((HostApplicationBuilder)builder).Build();
    }

    /// <summary>
    /// The daemon's settings over the host's defaults: configs/inspection.json (or --ConfigFile / the environment's
    /// PATCHCORE_INSPECTION_CONFIG), then the environment and the command line, so both still override the file.
    /// </summary>
    private static void AddSettings(IConfigurationManager configuration, string[] args)
    {
        string? chosen = configuration[ConfigFileKey] ?? Environment.GetEnvironmentVariable(ConfigFileVariable);
        string configFile = Path.GetFullPath(chosen ?? Path.Combine(AppContext.BaseDirectory, "inspection.json"));
        if (chosen is not null && !File.Exists(configFile))
            throw new PatchCoreException($"Configuration file {configFile} does not exist.");
        configuration.AddJsonFile(configFile, optional: true, reloadOnChange: false);
        configuration.AddEnvironmentVariables();
        configuration.AddCommandLine(args);
    }

    private static void AddDaemon(IServiceCollection services)
    {
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<InspectionOptions>>().Value);
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<InspectionOptions>();
            return new Layout(o.InboxPath, o.OutboxPath);
        });
        services.AddSingleton(sp => new ProductCatalog(sp.GetRequiredService<InspectionOptions>()));

        // Observability: the host registers IMeterFactory; health.json and the status line read the instruments.
        services.AddSingleton<InspectionMetrics>();
        services.AddSingleton<InspectionTotalsCollector>();
        services.AddSingleton<DaemonStatus>();
        services.AddSingleton<HealthReports>();

        services.AddSingleton<WorkerFault>();
        services.AddSingleton<IoRetry>();
        services.AddSingleton<IResultLog>(sp => new ResultLog(sp.GetRequiredService<Layout>().ResultsFile));
        services.AddSingleton<IImageMover, ImageMover>();
        services.AddSingleton<Reconciler>();
        // Images from programs (the HTTP API, MQTT) enter through the inbox like a camera's, and await their record.
        services.AddSingleton<ImageSubmissions>();
        services.AddSingleton<BatchInspector>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<InspectionOptions>();
            var router = new InboxRouter(o.InboxPath, sp.GetRequiredService<ProductCatalog>());
            return new InboxIntake(o.InboxPath, router, TimeSpan.FromMilliseconds(o.SettleMs), TimeSpan.FromMilliseconds(o.RescanIntervalMs),
                capacity: 2 * o.MaxBatchSize, sp.GetRequiredService<ILogger<InboxIntake>>());
        });

        // One backbone per backbone and weights for every product's bank. The container disposes singletons in the
        // reverse order of their creation, and this one is created before anything that loads a bank (the loader
        // needs it), so it is disposed after the BankKeeper has disposed every scorer.
        services.AddSingleton<SharedBackbones>();
        // The one place the daemon meets the detector; everything else sees an IImageScorer.
        services.AddSingleton<IBankLoader>(sp => new DetectorBankLoader(sp.GetRequiredService<SharedBackbones>()));
        services.AddSingleton<BankKeeper>();
        services.AddSingleton<DriftMonitor>();
        // The feedback loop: one instance, both a hosted service and what health.json asks about each product's feedback.
        services.AddSingleton<BankFeedback>();

        // Hosted services start in this order and stop in reverse: the folders are owned before anything touches
        // them, and the reporter stops after the worker (and the MQTT publisher) and writes the final state.
        services.AddHostedService<FolderOwnership>();
        services.AddHostedService<HealthReporter>();
        services.AddMqttPublishing(); // stops after the worker: the last batch is published before "offline"
        services.AddHostedService<InspectionWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<BankFeedback>()); // stops first: an update in flight is cancelled
    }

    /// <summary>
    /// MaxBatchSize is how many files the worker gathers; the backbone batch (BatchSize) stays the library's measured
    /// choice unless set. With <paramref name="product"/>, each of its settings that is set replaces the top-level one.
    /// </summary>
    public static DetectorOptions DetectorOptionsFrom(InspectionOptions o, ProductOptions? product = null) =>
        new(ComputeDevice.Parse(o.Device), BatchSize: o.BatchSize, MaxPixels: o.MaxPixels)
        {
            Search = SearchBackends.Parse(o.Search),
            DecodeParallelism = o.DecodeParallelism,
            Thresholds = new Thresholds
            {
                Ng = product?.Threshold ?? o.Threshold,
                Review = product?.ReviewThreshold ?? o.ReviewThreshold,
                Pixel = product?.PixelThreshold ?? o.PixelThreshold,
            },
            ReviewBand = product?.ReviewBand ?? o.ReviewBand,
            Regions = new RegionOptions { MinArea = product?.MinRegionArea ?? o.MinRegionArea, MmPerPixel = product?.MmPerPixel ?? o.MmPerPixel },
        };
}
