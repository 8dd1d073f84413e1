using System.Diagnostics.Metrics;
using PatchCore.Inspection.Observability;

namespace PatchCore.Inspection.Intake;

/// <summary>
/// The MQTT intake's instruments, on the daemon's meter: image messages received, acknowledged (their record durable),
/// recognised as redeliveries (acknowledged without a second record), and held now (received, not yet acknowledged).
/// </summary>
internal sealed class MqttIntakeMetrics
{
    public const string ReceivedName = "patchcore.mqtt.images.received";
    public const string AcknowledgedName = "patchcore.mqtt.images.acknowledged";
    public const string RedeliveredName = "patchcore.mqtt.images.redelivered";
    public const string HeldName = "patchcore.mqtt.images.held";

    private readonly Counter<long> _received, _acknowledged, _redelivered;
    private long _held, _receivedTotal, _acknowledgedTotal, _redeliveredTotal;

    public MqttIntakeMetrics(InspectionMetrics metrics)
    {
        var meter = metrics.Meter;
        _received = meter.CreateCounter<long>(ReceivedName, "{message}", "Image messages received from the MQTT broker (a redelivery counts again).");
        _acknowledged = meter.CreateCounter<long>(AcknowledgedName, "{message}", "Image messages acknowledged to the broker, each once its record was durable.");
        _redelivered = meter.CreateCounter<long>(RedeliveredName, "{message}", "Image messages delivered again that this daemon had taken already: acknowledged without a second record.");
        meter.CreateObservableGauge(HeldName, () => Interlocked.Read(ref _held), "{message}", "Image messages received and not yet acknowledged (at most Inspection:Mqtt:IntakeReceiveMaximum).");
    }

    public long Received => Interlocked.Read(ref _receivedTotal);
    public long Acknowledged => Interlocked.Read(ref _acknowledgedTotal);
    public long Redelivered => Interlocked.Read(ref _redeliveredTotal);
    public long Held => Interlocked.Read(ref _held);

    public void OnReceived()
    {
        _received.Add(1);
        Interlocked.Increment(ref _receivedTotal);
        Interlocked.Increment(ref _held);
    }

    public void OnAcknowledged(bool redelivery)
    {
        _acknowledged.Add(1);
        Interlocked.Increment(ref _acknowledgedTotal);
        if (redelivery)
        {
            _redelivered.Add(1);
            Interlocked.Increment(ref _redeliveredTotal);
        }
        Interlocked.Decrement(ref _held);
    }

    /// <summary>A message given up without an acknowledgement (connection lost, stopping): the broker delivers it again.</summary>
    public void OnLeft() => Interlocked.Decrement(ref _held);
}
