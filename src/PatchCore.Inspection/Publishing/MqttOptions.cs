namespace PatchCore.Inspection.Publishing;

/// <summary>
/// The broker the daemon publishes its results and status to, bound from <c>Inspection:Mqtt</c>. Publishing is on when
/// <see cref="Server"/> is set; without it the daemon runs exactly as before and needs no broker.
/// </summary>
internal sealed class MqttOptions
{
    public const string Section = "Inspection:Mqtt";

    /// <summary>Host name or address of the broker; empty = no MQTT.</summary>
    public string Server { get; set; } = "";

    /// <summary>The broker's port; null = 1883, or 8883 with <see cref="UseTls"/>.</summary>
    public int? Port { get; set; }

    /// <summary>
    /// The MQTT client id, unique on the broker (a second connection with the same id takes the first one's place);
    /// empty = <c>patchcore-HOST-XXXXXXXX</c>, from the machine name and the outbox path, so it stays the same across
    /// restarts and differs between two daemons on one machine.
    /// </summary>
    public string ClientId { get; set; } = "";

    public string? Username { get; set; }
    public string? Password { get; set; }

    /// <summary>TLS to the broker, its certificate checked against the system's trusted roots or <see cref="CaFile"/>.</summary>
    public bool UseTls { get; set; }

    /// <summary>PEM file of the certificate authority (or authorities) that signed the broker's certificate, trusted
    /// instead of the system's roots (a plant's own CA); null = the system's roots. Only with <see cref="UseTls"/>.</summary>
    public string? CaFile { get; set; }

    /// <summary>Topics start with this, for example <c>plant/line1/station3</c>: results go to
    /// <c>PREFIX/results/PRODUCT</c>, the retained status to <c>PREFIX/status</c>. Required with <see cref="Server"/>.</summary>
    public string TopicPrefix { get; set; } = "";

    /// <summary>Seconds between keep-alive pings: how long a broker may take to notice a station that vanished without
    /// closing its connection (power cut, cable pulled) and publish its last will (1.5 times this).</summary>
    public int KeepAliveSeconds { get; set; } = 30;

    /// <summary>The first wait before connecting again after a failure; it doubles (with jitter) up to <see cref="ReconnectMaxDelayMs"/>.</summary>
    public int ReconnectDelayMs { get; set; } = 1000;

    public int ReconnectMaxDelayMs { get; set; } = 30000;

    /// <summary>How often the retained status (counts, banks, lag) is refreshed while connected.</summary>
    public int StatusIntervalMs { get; set; } = 10000;

    /// <summary>
    /// Images in: subscribe to <c>$share/GROUP/PREFIX/images/+</c> (the last level is the product) and inspect each
    /// message's payload like an uploaded image, acknowledging it once its record is durable. Needs <see cref="Server"/>.
    /// </summary>
    public bool Intake { get; set; }

    /// <summary>The shared subscription's group: the daemons of one group split the image stream between them.</summary>
    public string Group { get; set; } = "patchcore";

    /// <summary>How many image messages the broker may hand this daemon before their acknowledgements (MQTT 5 Receive
    /// Maximum): the bound on images held in memory and waiting in the inbox for their record (backpressure).</summary>
    public int IntakeReceiveMaximum { get; set; } = 32;

    /// <summary>How long the broker keeps the intake's session (its subscription and the messages not yet acknowledged)
    /// while the daemon is away; a daemon that comes back within it gets those messages again.</summary>
    public int IntakeSessionExpirySeconds { get; set; } = 86400;

    /// <summary>How many recent message identities the intake remembers (read back from the journal at start) to
    /// recognise a redelivered message that already has a record.</summary>
    public int IntakeRememberedMessages { get; set; } = 100_000;

    public bool Enabled => !string.IsNullOrWhiteSpace(Server);

    public bool IntakeEnabled => Enabled && Intake;

    /// <summary>The intake's own client id: <see cref="ClientIdFor"/> + <c>-images</c>, fixed across restarts so the
    /// broker hands the session (and its unacknowledged messages) back to the same daemon.</summary>
    public string IntakeClientIdFor(string outboxPath) => ClientIdFor(outboxPath) + "-images";

    /// <summary><see cref="ClientId"/>, or when empty one made from the machine name and the outbox path.</summary>
    public string ClientIdFor(string outboxPath)
    {
        if (!string.IsNullOrWhiteSpace(ClientId)) return ClientId;
        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(outboxPath)))[..8];
        return $"patchcore-{Environment.MachineName.ToLowerInvariant()}-{hash}";
    }

    public int EffectivePort => Port ?? (UseTls ? 8883 : 1883);
}
