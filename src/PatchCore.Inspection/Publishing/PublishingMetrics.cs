using System.Diagnostics.Metrics;
using PatchCore.Inspection.Observability;

namespace PatchCore.Inspection.Publishing;

/// <summary>
/// The publisher's instruments, on the daemon's meter (<see cref="InspectionMetrics.MeterName"/>): records published,
/// the lag (records journaled but not yet acknowledged by the broker), whether the broker is connected, and the delay
/// from a record's scoring to the broker's acknowledgement. The gauges read <see cref="PublisherState"/>, which
/// health.json reads too.
/// </summary>
internal sealed class PublishingMetrics
{
    public const string PublishedName = "patchcore.mqtt.published";
    public const string LagName = "patchcore.mqtt.lag";
    public const string ConnectedName = "patchcore.mqtt.connected";
    public const string DelayName = "patchcore.mqtt.delay";

    private readonly Counter<long> _published;
    private readonly Histogram<double> _delay;

    public PublishingMetrics(InspectionMetrics metrics, PublisherState state)
    {
        var meter = metrics.Meter;
        _published = meter.CreateCounter<long>(PublishedName, "{record}", "Records of results.jsonl published to the MQTT broker and acknowledged by it (PUBACK); a record published again after a reconnect or a crash counts again.");
        _delay = meter.CreateHistogram<double>(DelayName, "s", "Time from a record's scoring to the broker's acknowledgement of its message.");
        meter.CreateObservableGauge(LagName, () => state.Lag, "{record}", "Records in results.jsonl that the MQTT broker has not acknowledged yet.");
        meter.CreateObservableGauge(ConnectedName, () => state.Connected ? 1 : 0, "{connection}", "1 while connected to the MQTT broker, else 0.");
    }

    public void Acknowledged(TimeSpan sinceScoring)
    {
        _published.Add(1);
        _delay.Record(Math.Max(0, sinceScoring.TotalSeconds));
    }
}
