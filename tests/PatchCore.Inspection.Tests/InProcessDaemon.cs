using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests;

/// <summary>The real host, started in the test process, its log going to the test output.</summary>
internal sealed class InProcessDaemon : IAsyncDisposable
{
    private readonly IHost _host;

    private InProcessDaemon(IHost host) => _host = host;

    /// <summary>The host's services (its metrics, for tests that count what it measured).</summary>
    public IServiceProvider Services => _host.Services;

    public static async Task<InProcessDaemon> StartAsync(string[] args, ITestOutputHelper output)
    {
        var host = InspectionHost.Build(args, logging =>
        {
            logging.ClearProviders();
            logging.AddProvider(new TestOutputLoggerProvider(output));
        });
        await host.StartAsync();
        return new InProcessDaemon(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

internal sealed class TestOutputLoggerProvider(ITestOutputHelper output) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new TestOutputLogger(output, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void Dispose() { }

    private sealed class TestOutputLogger(ITestOutputHelper output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            try { output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}"); }
            catch (InvalidOperationException) { } // the test has already finished
        }
    }
}
