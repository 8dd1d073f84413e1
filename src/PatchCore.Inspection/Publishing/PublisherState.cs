namespace PatchCore.Inspection.Publishing;

/// <summary>
/// What the publisher is doing now, written by the connection and the result publisher and read by health.json, the
/// retained status and the metrics' observable gauges: one set of numbers for all three.
/// </summary>
internal sealed class PublisherState
{
    private readonly object _lock = new();
    private bool _connected;
    private DateTimeOffset? _connectedSince, _lastPublishedAt, _lastErrorAt;
    private long _connections, _published, _lag, _cursor;
    private string? _lastPublishedId, _lastError;

    public PublisherState(MqttOptions options, string clientId)
    {
        Options = options;
        ClientId = clientId;
    }

    public MqttOptions Options { get; }
    public string ClientId { get; }

    public bool Connected
    {
        get { lock (_lock) return _connected; }
    }

    /// <summary>Records in results.jsonl not yet acknowledged by the broker.</summary>
    public long Lag
    {
        get { lock (_lock) return _lag; }
    }

    public long Published
    {
        get { lock (_lock) return _published; }
    }

    public void SetConnected(bool connected)
    {
        lock (_lock)
        {
            if (connected && !_connected)
            {
                _connections++;
                _connectedSince = DateTimeOffset.UtcNow;
            }
            else if (!connected)
            {
                _connectedSince = null;
            }
            _connected = connected;
        }
    }

    public void SetLag(long lag)
    {
        lock (_lock) _lag = lag;
    }

    /// <summary>The broker acknowledged records up to <paramref name="cursor"/>; <paramref name="records"/> of them since the last call.</summary>
    public void Acknowledged(long cursor, string? lastId, int records)
    {
        lock (_lock)
        {
            _cursor = cursor;
            _published += records;
            if (records > 0)
            {
                _lastPublishedId = lastId;
                _lastPublishedAt = DateTimeOffset.UtcNow;
            }
        }
    }

    /// <summary>Where publishing starts (the persisted cursor), before anything is published.</summary>
    public void Resumed(long cursor)
    {
        lock (_lock) _cursor = cursor;
    }

    public void Error(string message)
    {
        lock (_lock)
        {
            _lastError = message;
            _lastErrorAt = DateTimeOffset.UtcNow;
        }
    }

    /// <summary>The "mqtt" section of health.json; null when publishing is off.</summary>
    public MqttHealth? Health()
    {
        if (!Options.Enabled) return null;
        lock (_lock)
        {
            return new MqttHealth($"{Options.Server}:{Options.EffectivePort}", ClientId, Options.TopicPrefix, _connected, _connectedSince, _connections,
                _published, _lag, _cursor, _lastPublishedId, _lastPublishedAt, _lastErrorAt, _lastError);
        }
    }
}
