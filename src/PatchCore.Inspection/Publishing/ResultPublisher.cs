using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Publishing;

/// <summary>
/// Follows results.jsonl and publishes each record, exactly its journal line, to <c>PREFIX/results/PRODUCT</c> with
/// QoS 1, in journal order, from a persisted cursor (<see cref="PublishCursor"/>):
/// <list type="bullet">
/// <item>It reads only up to the checkpoint (<see cref="Checkpoint"/>): lines past it may belong to an append that fails
/// and is cut back (disk full), and a record must never reach the broker unless the journal keeps it.</item>
/// <item>Messages go out in journal order, up to the broker's Receive Maximum at a time (MQTTnet sends them in the
/// order of the calls), and the cursor moves over the unbroken run of acknowledged ones only; it is written durably
/// after them (at most every quarter second while records stream).
/// A message that fails or is refused is published again, with everything after it: a subscriber may see a record
/// twice (its id tells), never a gap, and the first copies arrive in journal order.</item>
/// <item>Nothing here is on the scoring path: the worker only appends to the journal, so a broker that is down
/// makes the lag grow and never slows or stops scoring.</item>
/// </list>
/// </summary>
internal sealed class ResultPublisher
{
    /// <summary>Messages awaiting their PUBACK at once, at most: enough to cover a network round trip at a few thousand
    /// records a second; the broker's Receive Maximum (less one, for the status) bounds it further.</summary>
    private const int MaxInFlight = 32;
    private const int LinesPerRead = 512;
    /// <summary>How often the journal and the checkpoint are looked at when there is nothing to publish.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CursorWriteInterval = TimeSpan.FromMilliseconds(250);

    private readonly JournalTail _journal;
    private readonly string _checkpointFile;
    private readonly string _cursorFile;
    private readonly MqttConnection _connection;
    private readonly MqttTopics _topics;
    private readonly MqttOptions _options;
    private readonly PublisherState _state;
    private readonly PublishingMetrics _metrics;
    private readonly DaemonStatus _status;
    private readonly ILogger<ResultPublisher> _log;
    private PublishCursor _cursor = PublishCursor.Start;
    private TimeSpan _refusedDelay = TimeSpan.Zero;
    private TimeSpan _retryDelay = TimeSpan.Zero;
    private bool _cursorUnwritable, _cursorDirty, _resumed;
    private long _cursorWritten;
    // The lag: _behind newlines lie in [_cursor.Offset, _countedTo); counted on as the journal grows.
    private long _countedTo, _behind;

    public ResultPublisher(Layout layout, MqttConnection connection, MqttTopics topics, MqttOptions options, PublisherState state,
        PublishingMetrics metrics, DaemonStatus status, ILogger<ResultPublisher> log)
    {
        _journal = new JournalTail(layout.ResultsFile);
        _checkpointFile = layout.CheckpointFile;
        _cursorFile = Path.Combine(layout.OutboxStateFolder, PublishCursor.FileName);
        _connection = connection;
        _topics = topics;
        _options = options;
        _state = state;
        _metrics = metrics;
        _status = status;
        _log = log;
    }

    /// <summary>Publishes until <paramref name="stop"/>, waiting for the broker whenever it is away.</summary>
    /// <param name="stop">Ends the loop between windows: messages in flight are waited for, so the cursor takes in
    /// every acknowledgement that came, and the drain that follows a stop does not publish them again.</param>
    /// <param name="abort">Gives up on the acknowledgements in flight too (the stop has taken too long).</param>
    public async Task RunAsync(CancellationToken stop, CancellationToken abort)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (!_resumed)
                    {
                        _cursor = Resume();
                        _state.Resumed(_cursor.Offset);
                        RefreshLag();
                        _log.MqttPublishingFrom(_journal.FilePath, _cursor.Offset, _behind);
                        _resumed = true;
                    }
                    await StepAsync(stop, abort).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The journal unreadable for a moment (an I/O error), or a fault of this loop: publishing must
                    // outlive it, as the daemon runs for months; the cursor has not moved past anything unpublished.
                    _state.Error($"Publishing stopped by an error: {e.Message}");
                    _status.ReportError(InspectionMetrics.ErrorTypes.Mqtt, $"MQTT: publishing stopped by an error: {e.Message}");
                    _log.MqttPublisherFailed(e, e.Message, $"in {_options.ReconnectMaxDelayMs} ms");
                    await Task.Delay(_options.ReconnectMaxDelayMs, stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested || abort.IsCancellationRequested)
        {
        }
        SaveCursor(force: true);
    }

    /// <summary>One look at the journal: publish what the checkpoint allows, or wait for it or for the broker.</summary>
    private async Task StepAsync(CancellationToken stop, CancellationToken abort)
    {
        long bound = Bound();
        RefreshLag();
        if (_cursor.Offset >= bound)
        {
            SaveCursor(force: true);
            await Task.Delay(Poll, stop).ConfigureAwait(false);
        }
        else if (!_connection.IsConnected)
        {
            SaveCursor(force: true);
            await WaitForConnectionAsync(stop).ConfigureAwait(false);
        }
        else if (!await PublishUpToAsync(bound, stop, abort).ConfigureAwait(false))
        {
            await Task.Delay(_retryDelay, stop).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// After the worker has stopped: publishes what the journal holds now, and returns when that is done, when the
    /// broker is away or refuses, or at <paramref name="deadline"/>. What is left is published after the next start.
    /// </summary>
    public async Task DrainAsync(CancellationToken deadline)
    {
        if (!_resumed) return; // stopped before the cursor was even read: nothing was published, nothing to finish
        try
        {
            while (_connection.IsConnected)
            {
                long bound = Bound();
                if (_cursor.Offset >= bound || !await PublishUpToAsync(bound, deadline, deadline).ConfigureAwait(false)) break;
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _state.Error($"Publishing stopped by an error: {e.Message}");
            _log.MqttPublisherFailed(e, e.Message, "at the next start");
        }
        SaveCursor(force: true);
        try { RefreshLag(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // health.json keeps the last count
    }

    /// <summary>The persisted cursor, if it still fits the journal: the line that ends at its offset must be the record it names.</summary>
    private PublishCursor Resume()
    {
        PublishCursor cursor;
        try
        {
            cursor = PublishCursor.Read(_cursorFile);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            _log.MqttCursorReset(_cursorFile, _journal.FilePath, $"unreadable: {e.Message}");
            return PublishCursor.Start;
        }
        if (cursor.Offset == 0) return PublishCursor.Start;
        if (_journal.LineEndingAt(cursor.Offset) is not { } line)
        {
            _log.MqttCursorReset(_cursorFile, _journal.FilePath, $"no line of the journal ({_journal.Length} bytes) ends at byte {cursor.Offset}: it was replaced");
            return PublishCursor.Start;
        }
        string? id = Parse(line)?.Id;
        if (!string.Equals(id, cursor.LastId, StringComparison.Ordinal))
        {
            _log.MqttCursorReset(_cursorFile, _journal.FilePath, $"the line ending at byte {cursor.Offset} is record {id ?? "(none)"}, not {cursor.LastId ?? "(none)"}: the journal was replaced");
            return PublishCursor.Start;
        }
        return cursor;
    }

    /// <summary>
    /// How far the journal may be published: to its checkpoint (or its end, if shorter). A journal now shorter than the
    /// cursor was replaced or cut by hand (the daemon never cuts below the checkpoint): it is published from its start.
    /// </summary>
    private long Bound()
    {
        long length = _journal.Length;
        if (length < _cursor.Offset)
        {
            _log.MqttCursorReset(_cursorFile, _journal.FilePath, $"the journal is {length} bytes, shorter than the cursor's {_cursor.Offset}: it was replaced");
            _cursor = PublishCursor.Start;
            _state.Resumed(0);
        }
        return Math.Min(Checkpoint.Read(_checkpointFile), length);
    }

    /// <summary>Waits for the broker in short steps, so the lag goes on being counted while it is away.</summary>
    private async Task WaitForConnectionAsync(CancellationToken stop)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop);
        wait.CancelAfter(5 * Poll);
        try
        {
            await _connection.WaitConnectedAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Publishes the lines from the cursor to <paramref name="bound"/> (up to <see cref="LinesPerRead"/>) through a
    /// sliding window: a new message goes out as soon as the oldest one in flight is acknowledged, and the cursor moves
    /// with each acknowledgement in order. (Sending a window and then waiting for all of it leaves the connection idle,
    /// and a broker without TCP_NODELAY then holds its PUBACKs for the client's delayed ACK: about 40 ms a window.)
    /// False when a message failed or was refused, or nothing could be read: then try again after <see cref="_retryDelay"/>.
    /// </summary>
    /// <param name="stop">Stops sending; what is in flight is still waited for, so its acknowledgements count.</param>
    /// <param name="abort">Gives up waiting for acknowledgements.</param>
    private async Task<bool> PublishUpToAsync(long bound, CancellationToken stop, CancellationToken abort)
    {
        var lines = _journal.Read(_cursor.Offset, bound, LinesPerRead);
        if (lines.Count == 0)
        {
            // The bound is not after a whole line yet (the checkpoint of a journal being replaced): look again later.
            _retryDelay = Poll;
            return false;
        }
        int window = Math.Clamp(_connection.ReceiveMaximum - 1, 1, MaxInFlight);
        var inFlight = new Queue<(JournalLine Line, InspectionRecord? Record, Task<MqttClientPublishResult>? Ack)>(window);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(abort);
        timeout.CancelAfter(AckTimeout);
        int next = 0;
        while (true)
        {
            while (next < lines.Count && inFlight.Count < window && !stop.IsCancellationRequested)
            {
                var line = lines[next++];
                var record = Parse(line.Bytes.Span);
                if (record is null && !BankSwitchEntry.IsEntry(line.Bytes.Span)) _log.MqttNotARecord(_journal.FilePath, line.Start, Encoding.UTF8.GetString(line.Bytes.Span));
                inFlight.Enqueue((line, record, record is null ? null : Send(line, record, timeout.Token)));
            }
            if (inFlight.Count == 0) break;

            var (oldest, oldestRecord, ack) = inFlight.Peek();
            if (ack is not null)
            {
                try { await ack.ConfigureAwait(false); }
                catch (Exception) { } // looked at below
            }
            if (ack is null || (ack.IsCompletedSuccessfully && ack.Result.IsSuccess))
            {
                // Acknowledged (or not a record, which the cursor passes): the next one has as long as the first had.
                inFlight.Dequeue();
                timeout.CancelAfter(AckTimeout);
                if (oldestRecord is not null) _metrics.Acknowledged(DateTimeOffset.UtcNow - oldestRecord.ScoredAt);
                Advance(oldest.End, oldestRecord?.Id, lines: 1, published: oldestRecord is null ? 0 : 1);
                continue;
            }
            // Everything after a failure is published again from the cursor: it is settled first, so nothing is left in flight.
            try { await Task.WhenAll(inFlight.Select(m => m.Ack).OfType<Task<MqttClientPublishResult>>()).ConfigureAwait(false); }
            catch (Exception) { }
            abort.ThrowIfCancellationRequested();
            Failed(oldestRecord!, ack);
            return false;
        }
        abort.ThrowIfCancellationRequested();
        _refusedDelay = TimeSpan.Zero;
        SaveCursor(force: true); // what was read is acknowledged: a crash now publishes nothing of it again
        return true;
    }

    /// <summary>Starts one publish. MQTTnet throws at once when not connected; that is a failed message like any other.</summary>
    private Task<MqttClientPublishResult> Send(JournalLine line, InspectionRecord record, CancellationToken cancel)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(_topics.Results(record.Product))
            .WithPayloadSegment(line.Bytes)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithContentType("application/json")
            .WithPayloadFormatIndicator(MqttPayloadFormatIndicator.CharacterData)
            .WithUserProperty("id", Encoding.UTF8.GetBytes(record.Id).AsMemory())
            .Build();
        try
        {
            return _connection.PublishAsync(message, cancel);
        }
        catch (Exception e)
        {
            return Task.FromException<MqttClientPublishResult>(e);
        }
    }

    /// <summary>The broker acknowledged every line up to <paramref name="offset"/>: the cursor moves there (on disk within <see cref="CursorWriteInterval"/>).</summary>
    private void Advance(long offset, string? lastId, int lines, int published)
    {
        _cursor = new PublishCursor(offset, lastId, DateTimeOffset.UtcNow);
        _cursorDirty = true;
        _behind = Math.Max(0, _behind - lines);
        if (offset > _countedTo) (_countedTo, _behind) = (offset, 0);
        _state.Acknowledged(offset, lastId, published);
        _state.SetLag(_behind);
        SaveCursor(force: false);
    }

    /// <summary>
    /// Writes the cursor (atomically, fsynced) if it moved: while records stream, at most every
    /// <see cref="CursorWriteInterval"/>, since two fsyncs per message would bound the rate; at once when all that was
    /// read is acknowledged (a batch, or <see cref="LinesPerRead"/> lines), when caught up, when the broker goes away
    /// and at a stop. Only what the broker acknowledged is ever written, so a crash between two
    /// writes publishes a few records again, never skips one.
    /// </summary>
    private void SaveCursor(bool force)
    {
        if (!_cursorDirty || (!force && Stopwatch.GetElapsedTime(_cursorWritten) < CursorWriteInterval)) return;
        try
        {
            _cursor.Write(_cursorFile);
            _cursorDirty = false;
            _cursorWritten = Stopwatch.GetTimestamp();
            _cursorUnwritable = false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Publishing goes on: an old cursor on disk only means more records published twice after a crash.
            if (!_cursorUnwritable) _log.MqttCursorUnwritable(e, _cursorFile, e.Message);
            _cursorUnwritable = true;
            _state.Error($"Cannot write {_cursorFile}: {e.Message}");
        }
    }

    /// <summary>
    /// A message failed (the connection went, or no PUBACK in time) or the broker refused it (not authorised, quota,
    /// too large): it is published again from the cursor after <see cref="_retryDelay"/>. A refusal is waited on with a
    /// growing delay, since it repeats until someone changes the broker's settings; the record stays in the journal.
    /// </summary>
    private void Failed(InspectionRecord record, Task<MqttClientPublishResult> ack)
    {
        _retryDelay = TimeSpan.FromMilliseconds(_options.ReconnectDelayMs);
        if (ack.IsCompletedSuccessfully)
        {
            var result = ack.Result;
            _refusedDelay = _refusedDelay == TimeSpan.Zero ? _retryDelay : TimeSpan.FromTicks(Math.Min(_refusedDelay.Ticks * 2, TimeSpan.FromMilliseconds(_options.ReconnectMaxDelayMs).Ticks));
            _retryDelay = _refusedDelay;
            string reason = string.IsNullOrEmpty(result.ReasonString) ? result.ReasonCode.ToString() : $"{result.ReasonCode} ({result.ReasonString})";
            string topic = _topics.Results(record.Product);
            _state.Error($"The broker refused record {record.Id} on {topic}: {reason}");
            _status.ReportError(InspectionMetrics.ErrorTypes.Mqtt, $"MQTT: the broker refused record {record.Id} on {topic}: {reason}");
            _log.MqttRecordRefused(record.Id, topic, reason, (int)_retryDelay.TotalMilliseconds);
        }
        else
        {
            string error = ack.Exception?.GetBaseException().Message ?? "cancelled: no acknowledgement in time";
            _state.Error($"Publishing record {record.Id} failed: {error}");
            _log.MqttPublishFailed(record.Id, error);
        }
    }

    /// <summary>Counts the lines journaled since the last count; starts over when the journal or the cursor moved unexpectedly.</summary>
    private void RefreshLag()
    {
        long length = _journal.Length;
        if (length < _countedTo || _countedTo < _cursor.Offset) (_countedTo, _behind) = (_cursor.Offset, 0);
        var (lines, end) = _journal.CountLines(_countedTo, length);
        _behind += lines;
        _countedTo = end;
        _state.SetLag(_behind);
    }

    private static InspectionRecord? Parse(ReadOnlySpan<byte> line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, RecordJson.Default.InspectionRecord);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
