using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Fakes;

/// <summary>
/// The real daemon host with a fake scorer (no TorchSharp, no dataset) and fast settings. The journal and the mover
/// are the real ones behind failure plans that do nothing until a test plans a failure. The log goes to the test
/// output and to a <see cref="FakeLogCollector"/> for assertions on event ids.
/// </summary>
internal sealed class FakeDaemon : IAsyncDisposable
{
    private bool _started;

    public FakeDaemon(DaemonFolders folders, ITestOutputHelper output, params string[] extraArgs)
    {
        Folders = folders;
        string[] args = folders.Args(
        [
            "--Inspection:SettleMs=0", "--Inspection:RescanIntervalMs=100", "--Inspection:MaxBatchDelayMs=50",
            "--Inspection:BankPollIntervalMs=100", "--Inspection:HealthIntervalMs=100", "--Inspection:ShutdownTimeoutMs=10000",
            .. extraArgs,
        ]);
        Host = InspectionHost.Build(args, logging =>
        {
            logging.ClearProviders();
            logging.AddProvider(new TestOutputLoggerProvider(output));
            logging.AddFakeLogging();
        }, services =>
        {
            // The loader applies each product's thresholds as the detector does (Inspection:Threshold, ReviewThreshold, ...).
            services.AddSingleton<IBankLoader>(Loader);
            services.AddSingleton<IResultLog>(sp => new ResultLog(sp.GetRequiredService<Layout>().ResultsFile,
                path => JournalAppends.NextFails(out _) ? new DiskFullStream(path) : new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)));
            services.AddSingleton(sp => new FailingImageMover(new ImageMover(sp.GetRequiredService<Layout>())));
            services.AddSingleton<IImageMover>(sp => sp.GetRequiredService<FailingImageMover>());
        });
        // Kept, so a test can read them after the host is disposed. The others need valid options: resolved on first
        // use or at the start, never in here, where a start that must fail validation would fail instead.
        Logs = Host.Services.GetFakeLogCollector();
        _mover = new Lazy<FailingImageMover>(() => Host.Services.GetRequiredService<FailingImageMover>());
        _metrics = new Lazy<InspectionMetrics>(() => Host.Services.GetRequiredService<InspectionMetrics>());
    }

    private readonly Lazy<FailingImageMover> _mover;
    private readonly Lazy<InspectionMetrics> _metrics;

    /// <summary>Fake folders with a fake bank: id "A", threshold 0.5 unless said otherwise.</summary>
    public static DaemonFolders NewFolders(string bankId = "A", double? threshold = 0.5)
    {
        var folders = new DaemonFolders();
        FakeBank.Write(folders.Bank, bankId, threshold);
        return folders;
    }

    public DaemonFolders Folders { get; }
    public IHost Host { get; }
    public FakeBankLoader Loader { get; } = new();
    public ScorerScript Script => Loader.Script;

    /// <summary>Appends to results.jsonl whose disk fills half way through (planned failures only).</summary>
    public FailurePlan JournalAppends { get; } = new();

    public FailingImageMover Mover => _mover.Value;
    public FakeLogCollector Logs { get; }
    public InspectionMetrics Metrics => _metrics.Value;

    public static async Task<FakeDaemon> StartAsync(DaemonFolders folders, ITestOutputHelper output, params string[] extraArgs)
    {
        var daemon = new FakeDaemon(folders, output, extraArgs);
        try
        {
            await daemon.StartAsync();
            return daemon;
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }
    }

    public async Task StartAsync()
    {
        await Host.StartAsync();
        _started = true;
        _ = Mover;
        _ = Metrics;
    }

    /// <summary>The log records with this event id (see InspectionLog).</summary>
    public IReadOnlyList<FakeLogRecord> Events(int eventId) =>
        Logs.GetSnapshot().Where(r => r.Id.Id == eventId).ToArray();

    public async ValueTask DisposeAsync()
    {
        if (_started)
        {
            try { await Host.StopAsync(); }
            catch (OperationCanceledException) { }
        }
        Host.Dispose();
    }
}
