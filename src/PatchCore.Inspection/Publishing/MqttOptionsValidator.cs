using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Options;

namespace PatchCore.Inspection.Publishing;

/// <summary>
/// Checks <c>Inspection:Mqtt</c> at start, only when publishing is on (a <c>Server</c> is set): the broker's address and
/// port, a topic prefix that is a valid topic name without wildcards, sane intervals, and a CA file that holds
/// certificates. Whether the broker can be reached is not checked: a broker that is down must not stop the station.
/// Every message names the key it is about.
/// </summary>
internal sealed class MqttOptionsValidator : IValidateOptions<MqttOptions>
{
    private const string Key = MqttOptions.Section + ":";

    public ValidateOptionsResult Validate(string? name, MqttOptions o)
    {
        if (!o.Enabled)
            return o.Intake ? ValidateOptionsResult.Fail($"{Key}Intake is true but {Key}Server is not set: images come in over MQTT only from a broker.") : ValidateOptionsResult.Success;
        var errors = new List<string>();
        string server = o.Server.Trim();
        if (Uri.CheckHostName(server) == UriHostNameType.Unknown)
            errors.Add($"{Key}Server must be a host name or an IP address, without a scheme or a port (got '{o.Server}'); the port is {Key}Port.");
        if (o.Port is { } port) InspectionOptionsValidator.Range(errors, port, 1, 65535, Key + "Port");
        if (Encoding.UTF8.GetByteCount(o.ClientId) > 65535) errors.Add($"{Key}ClientId is longer than MQTT allows (65535 bytes).");
        if (TopicPrefixProblem(o.TopicPrefix) is { } problem) errors.Add($"{Key}TopicPrefix {problem}");
        InspectionOptionsValidator.Range(errors, o.KeepAliveSeconds, 5, 65535, Key + "KeepAliveSeconds");
        InspectionOptionsValidator.Range(errors, o.ReconnectDelayMs, 10, 600_000, Key + "ReconnectDelayMs");
        InspectionOptionsValidator.Range(errors, o.ReconnectMaxDelayMs, 10, 3_600_000, Key + "ReconnectMaxDelayMs");
        if (o.ReconnectMaxDelayMs < o.ReconnectDelayMs)
            errors.Add($"{Key}ReconnectMaxDelayMs ({o.ReconnectMaxDelayMs}) is below {Key}ReconnectDelayMs ({o.ReconnectDelayMs}).");
        InspectionOptionsValidator.Range(errors, o.StatusIntervalMs, 100, 86_400_000, Key + "StatusIntervalMs");
        if (o.Intake)
        {
            if (string.IsNullOrEmpty(o.Group) || o.Group.IndexOfAny(['/', '+', '#', '\0']) >= 0 || Encoding.UTF8.GetByteCount(o.Group) > 256)
                errors.Add($"{Key}Group must be 1-256 bytes without /, + or # (it is a shared subscription's name; got '{o.Group}').");
            InspectionOptionsValidator.Range(errors, o.IntakeReceiveMaximum, 1, 65535, Key + "IntakeReceiveMaximum");
            InspectionOptionsValidator.Range(errors, o.IntakeSessionExpirySeconds, 1, int.MaxValue, Key + "IntakeSessionExpirySeconds");
            InspectionOptionsValidator.Range(errors, o.IntakeRememberedMessages, 1000, 10_000_000, Key + "IntakeRememberedMessages");
        }
        if (!string.IsNullOrWhiteSpace(o.CaFile))
        {
            if (!o.UseTls) errors.Add($"{Key}CaFile is set but {Key}UseTls is false: the CA is only used over TLS.");
            else if (CaFileProblem(Path.GetFullPath(o.CaFile)) is { } caProblem) errors.Add($"{Key}CaFile: {caProblem}");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>
    /// Null when <paramref name="prefix"/> can start every topic the daemon publishes: a topic name (MQTT 5, 4.7) with no
    /// wildcard, not under <c>$</c> (the broker's own topics), and no empty level at either end or inside, which
    /// subscribers would have to spell with a bare <c>/</c>.
    /// </summary>
    internal static string? TopicPrefixProblem(string prefix)
    {
        if (string.IsNullOrWhiteSpace(prefix))
            return $"is required when {Key}Server is set, for example plant/line1/station3 (results go to PREFIX/results/PRODUCT, the status to PREFIX/status).";
        if (prefix.IndexOfAny(['+', '#']) >= 0) return $"must not hold the wildcards + or # (got '{prefix}').";
        if (prefix.StartsWith('$')) return $"must not start with $, which brokers keep for their own topics (got '{prefix}').";
        if (prefix.Contains('\0', StringComparison.Ordinal)) return "must not hold a NUL character.";
        if (prefix.Split('/').Any(level => level.Length == 0)) return $"must not start or end with / or hold an empty level // (got '{prefix}').";
        if (Encoding.UTF8.GetByteCount(prefix) > 32_000) return "is longer than a topic may be.";
        return null;
    }

    private static string? CaFileProblem(string path)
    {
        if (!File.Exists(path)) return $"{path} does not exist.";
        try
        {
            var certificates = new X509Certificate2Collection();
            certificates.ImportFromPemFile(path);
            int count = certificates.Count;
            foreach (var certificate in certificates) certificate.Dispose();
            return count == 0 ? $"{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)." : null;
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            return $"{path} cannot be read as PEM certificates: {e.Message}";
        }
    }
}
