using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PatchCore.Core;
using PatchCore.Core.Devices;
using PatchCore.Core.Search;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Intake;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;
using PatchCore.Inspection.Processing;

namespace PatchCore.Inspection;

/// <summary>Builds the daemon's Generic Host; Program runs it, tests run it in-process.</summary>
public static class InspectionHost
{
    public const string ConfigFileKey = "ConfigFile";
    public const string ConfigFileVariable = "PATCHCORE_INSPECTION_CONFIG";

    /// <summary>
    /// Configuration, lowest to highest priority: configs/inspection.json (copied beside the program; another file
    /// with --ConfigFile=PATH or PATCHCORE_INSPECTION_CONFIG), environment variables (Inspection__Inbox), command line
    /// (--Inspection:Inbox=DIR).
    /// </summary>
    public static IHost Build(string[] args, Action<ILoggingBuilder>? logging = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

        string? chosen = builder.Configuration[ConfigFileKey] ?? Environment.GetEnvironmentVariable(ConfigFileVariable);
        string configFile = Path.GetFullPath(chosen ?? Path.Combine(AppContext.BaseDirectory, "inspection.json"));
        if (chosen is not null && !File.Exists(configFile))
            throw new PatchCoreException($"Configuration file {configFile} does not exist.");
        // The JSON file goes under the environment and the command line, so both still override it.
        builder.Configuration.AddJsonFile(configFile, optional: true, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddCommandLine(args);

        builder.Services.AddSystemd();
        logging?.Invoke(builder.Logging);

        int shutdownMs = builder.Configuration.GetValue<int?>($"{InspectionOptions.Section}:{nameof(InspectionOptions.ShutdownTimeoutMs)}") ?? 30000;
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromMilliseconds(Math.Max(1000, shutdownMs)));

        builder.Services.AddSingleton<IValidateOptions<InspectionOptions>, InspectionOptionsValidator>();
        builder.Services.AddOptions<InspectionOptions>()
            .Bind(builder.Configuration.GetSection(InspectionOptions.Section))
            .ValidateOnStart();

        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<InspectionOptions>>().Value);
        builder.Services.AddSingleton<InspectionStats>();
        builder.Services.AddSingleton<WorkerFault>();
        builder.Services.AddSingleton<IoRetry>();
        builder.Services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<InspectionOptions>();
            return new Layout(o.InboxPath, o.OutboxPath);
        });
        builder.Services.AddSingleton(sp => new ResultLog(sp.GetRequiredService<Layout>().ResultsFile));
        builder.Services.AddSingleton<ImageMover>();
        builder.Services.AddSingleton<Reconciler>();
        builder.Services.AddSingleton<BatchInspector>();
        builder.Services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<InspectionOptions>();
            return new InboxIntake(o.InboxPath, TimeSpan.FromMilliseconds(o.SettleMs), TimeSpan.FromMilliseconds(o.RescanIntervalMs),
                capacity: 2 * o.MaxBatchSize, sp.GetRequiredService<ILogger<InboxIntake>>());
        });
        builder.Services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<InspectionOptions>();
            // MaxBatchSize is how many files the worker gathers; the backbone batch stays the library's choice.
            var detectorOptions = new DetectorOptions(ComputeDevice.Parse(o.Device), MaxPixels: o.MaxPixels)
            {
                Search = SearchBackends.Parse(o.Search),
                DecodeParallelism = o.DecodeParallelism,
            };
            return new BankKeeper(o.BankPath, detectorOptions, o.Threshold, TimeSpan.FromMilliseconds(o.BankPollIntervalMs),
                sp.GetRequiredService<InspectionStats>(), sp.GetRequiredService<ILogger<BankKeeper>>());
        });
        // Hosted services stop in reverse order: the reporter stops after the worker and writes the final state.
        builder.Services.AddHostedService<HealthReporter>();
        builder.Services.AddHostedService<InspectionWorker>();
        return builder.Build();
    }
}
