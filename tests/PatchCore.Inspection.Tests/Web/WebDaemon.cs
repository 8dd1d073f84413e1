using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using PatchCore.Inspection.Tests.Fakes;
using Xunit.Abstractions;

namespace PatchCore.Inspection.Tests.Web;

/// <summary>
/// The daemon with a fake scorer (<see cref="FakeDaemon"/>) serving HTTP on a free loopback port
/// (<c>http://127.0.0.1:0</c>: Kestrel picks it, so two test runs never race for one), with a client on that address.
/// </summary>
internal sealed class WebDaemon : IAsyncDisposable
{
    private WebDaemon(FakeDaemon daemon, Uri address)
    {
        Daemon = daemon;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public FakeDaemon Daemon { get; }
    public DaemonFolders Folders => Daemon.Folders;
    public Uri Address { get; }
    public HttpClient Client { get; }

    public T Service<T>() where T : notnull => Daemon.Host.Services.GetRequiredService<T>();

    public static async Task<WebDaemon> StartAsync(DaemonFolders folders, ITestOutputHelper output, params string[] extraArgs)
    {
        var daemon = await FakeDaemon.StartAsync(folders, output, ["--Inspection:Http:Urls=http://127.0.0.1:0", .. extraArgs]);
        return new WebDaemon(daemon, AddressOf(daemon));
    }

    /// <summary>Where the host's server listens (the port Kestrel picked).</summary>
    public static Uri AddressOf(FakeDaemon daemon) =>
        new(daemon.Host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>POST /v1/inspect with the text the fake scorer reads as the score ("0.2"), or anything else.</summary>
    public Task<HttpResponseMessage> InspectAsync(string text, string? name = null, string query = "", params (string Header, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/inspect" + query) { Content = new StringContent(text) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        if (name is not null) request.Headers.Add("X-Original-Name", name);
        foreach (var (header, value) in headers) request.Headers.TryAddWithoutValidation(header, value);
        return Client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Daemon.DisposeAsync();
    }
}
