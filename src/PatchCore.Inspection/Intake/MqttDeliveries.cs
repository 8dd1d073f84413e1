using System.Collections.Concurrent;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Intake;

/// <summary>
/// The MQTT intake's memory of the messages it has taken, by message identity (the sender's <c>messageId</c>, else
/// <c>PRODUCT/sha256:HEX</c> of the payload): recorded (the record's id) or on its way (the task of its record). It is
/// what keeps a message the broker delivers again (after a crash before its acknowledgement, or a reconnect) from
/// getting a second record on this daemon. At start it is filled from the tail of the journal (records whose
/// submission came over MQTT) and from the tickets of submissions not yet recorded; it keeps the most recent
/// <c>Inspection:Mqtt:IntakeRememberedMessages</c> identities. It knows only this daemon's journal: another member of
/// the group cannot consult it. Thread-safe.
/// </summary>
internal sealed class MqttDeliveries
{
    /// <summary>How much of the end of results.jsonl is read at start (the journal of months need not be read whole).</summary>
    internal const long JournalTailBytes = 64L << 20;

    private readonly ConcurrentDictionary<string, Known> _known = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly object _lock = new();
    private readonly int _capacity;

    public MqttDeliveries(int capacity) => _capacity = capacity;

    /// <summary>A message identity this daemon has taken: its record's id once recorded, else the task of its record.</summary>
    public sealed record Known(string SubmissionId, Task<InspectionRecord>? Pending);

    public int Count => _known.Count;

    public Known? Find(string identity) => _known.TryGetValue(identity, out var known) ? known : null;

    public void Taken(string identity, string submissionId, Task<InspectionRecord> record) => Remember(identity, new Known(submissionId, record));

    public void Recorded(string identity, string recordId) => Remember(identity, new Known(recordId, null));

    /// <summary>
    /// Fills the memory from <paramref name="recent"/> (the journal's end, <see cref="IResultLog.ReadLast"/> of
    /// <see cref="JournalTailBytes"/>) and from the tickets still waiting; returns (records, tickets) found.
    /// </summary>
    public (int Records, int Pending) Load(IEnumerable<InspectionRecord> recent, IEnumerable<SubmissionTicket> tickets, Func<string, Task<InspectionRecord>?> track)
    {
        int pending = 0;
        foreach (var ticket in tickets)
        {
            if (ticket.Source != MqttImageIntake.Source || ticket.MessageId is null) continue;
            if (track(ticket.Id) is { } record) Taken(ticket.MessageId, ticket.Id, record);
            pending++;
        }
        int records = 0;
        foreach (var record in recent)
        {
            if (record.Submission is { Source: MqttImageIntake.Source, MessageId: { } identity })
            {
                Recorded(identity, record.Id);
                records++;
            }
        }
        return (records, pending);
    }

    private void Remember(string identity, Known known)
    {
        lock (_lock)
        {
            if (_known.TryGetValue(identity, out _))
            {
                _known[identity] = known;
                return;
            }
            _known[identity] = known;
            _order.Enqueue(identity);
            int turns = _order.Count;
            while (_order.Count > _capacity && turns-- > 0 && _order.TryDequeue(out string? oldest))
            {
                // A message still on its way is never forgotten: it goes to the back of the queue.
                if (_known.TryGetValue(oldest, out var old) && old.Pending is { IsCompleted: false }) _order.Enqueue(oldest);
                else _known.TryRemove(oldest, out _);
            }
        }
    }
}
