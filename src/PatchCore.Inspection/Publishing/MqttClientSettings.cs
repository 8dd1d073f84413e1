using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Exceptions;
using Polly;
using Polly.Retry;

namespace PatchCore.Inspection.Publishing;

/// <summary>
/// What every connection of the daemon to the broker shares (the results publisher's and the image intake's): the
/// server, MQTT 5, the client id, keep-alive, the connect timeout, credentials and TLS. Each caller adds its own session
/// rules (clean start or a persistent session, a last will, Receive Maximum).
/// </summary>
internal static class MqttClientSettings
{
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <param name="trusted">
    /// The caller's collection for <see cref="MqttOptions.CaFile"/>'s certificates (filled on the first call, kept for
    /// the TLS check of every connection; the caller disposes them).
    /// </param>
    public static MqttClientOptionsBuilder Builder(MqttOptions options, string clientId, X509Certificate2Collection trusted)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(options.Server.Trim(), options.EffectivePort)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId(clientId)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(options.KeepAliveSeconds))
            .WithTimeout(ConnectTimeout);
        if (!string.IsNullOrEmpty(options.Username) || !string.IsNullOrEmpty(options.Password))
            builder.WithCredentials(options.Username ?? "", options.Password);
        if (options.UseTls)
        {
            if (!string.IsNullOrWhiteSpace(options.CaFile) && trusted.Count == 0) trusted.ImportFromPemFile(Path.GetFullPath(options.CaFile));
            builder.WithTlsOptions(tls =>
            {
                tls.UseTls().WithTargetHost(options.Server.Trim());
                // A plant's own CA instead of the system's roots; such a CA rarely publishes revocation lists.
                if (trusted.Count > 0) tls.WithTrustChain(trusted).WithRevocationMode(X509RevocationMode.NoCheck);
            });
        }
        return builder;
    }

    /// <summary>
    /// Connects within <see cref="ConnectTimeout"/> (MQTTnet applies its own timeout only to a connect without a
    /// cancellable token); a refusal by the broker is an <see cref="MqttCommunicationException"/> saying why.
    /// </summary>
    public static async Task<MqttClientConnectResult> ConnectAsync(IMqttClient client, MqttClientOptions options, CancellationToken stop)
    {
        MqttClientConnectResult result;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
        {
            timeout.CancelAfter(ConnectTimeout);
            try
            {
                result = await client.ConnectAsync(options, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                throw new TimeoutException($"no CONNACK within {ConnectTimeout.TotalSeconds:F0} s");
            }
        }
        if (result.ResultCode != MqttClientConnectResultCode.Success)
            throw new MqttCommunicationException($"the broker refused the connection: {result.ResultCode}{(string.IsNullOrEmpty(result.ReasonString) ? "" : $" ({result.ReasonString})")}");
        return result;
    }

    /// <summary>
    /// Connecting again until it works, for as long as the daemon runs: Polly's exponential backoff from
    /// <see cref="MqttOptions.ReconnectDelayMs"/> to <see cref="MqttOptions.ReconnectMaxDelayMs"/>, with jitter so that
    /// stations restarted together by a plant-wide outage do not all knock at once. <paramref name="failed"/> hears each
    /// failure with its attempt number (from 1) and the wait before the next.
    /// </summary>
    public static ResiliencePipeline Reconnect(MqttOptions options, Action<Exception?, int, TimeSpan> failed) =>
        new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException),
            MaxRetryAttempts = int.MaxValue, // a broker that is down for days is waited for, never given up on
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(options.ReconnectDelayMs),
            MaxDelay = TimeSpan.FromMilliseconds(options.ReconnectMaxDelayMs),
            OnRetry = args =>
            {
                failed(args.Outcome.Exception, args.AttemptNumber + 1, args.RetryDelay);
                return default;
            },
        }).Build();

    /// <summary>An exception in one line for logs and health: its message, and its root cause where that adds to it.</summary>
    public static string Describe(Exception? e)
    {
        if (e is null) return "unknown error";
        string cause = e.GetBaseException().Message;
        return ReferenceEquals(e.GetBaseException(), e) || e.Message.Contains(cause, StringComparison.Ordinal) ? e.Message : $"{e.Message.TrimEnd('.')}: {cause}";
    }
}
