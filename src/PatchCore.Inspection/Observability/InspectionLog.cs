using Microsoft.Extensions.Logging;

namespace PatchCore.Inspection.Observability;

/// <summary>
/// Every message the daemon logs, source-generated (no boxing, no template parsing at run time) and structured, each
/// with a stable event id that operators can filter and alert on: 1xx intake, 2xx processing, 3xx outbox, 4xx banks,
/// 5xx health, 6xx ownership, 70x submissions (images taken from programs), 71x the HTTP API, 80x-81x MQTT publishing, 82x-83x images in over MQTT, 90x the operator's feedback, 92x drift. Kept in one place so an id is never used twice and the list doubles as the catalogue.
/// Message texts are what operators (and the end-to-end tests) search the log for: change them deliberately.
/// </summary>
internal static partial class InspectionLog
{
    // Intake

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Inbox watcher error ({Error}); rescanning {Inbox}")]
    public static partial void InboxWatcherError(this ILogger log, Exception exception, string error, string inbox);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "Cannot list the inbox {Inbox}: {Error}")]
    public static partial void InboxUnreadable(this ILogger log, Exception exception, string inbox, string error);

    // Processing

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Watching {Inbox} (batches of up to {Batch}, settle {Settle} ms)")]
    public static partial void Watching(this ILogger log, string inbox, int batch, int settle);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Stopped taking files; {Processed} processed in this run")]
    public static partial void StoppedTaking(this ILogger log, long processed);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Shutdown deadline reached with work in flight; the next start finishes it")]
    public static partial void ShutdownDeadline(this ILogger log);

    [LoggerMessage(EventId = 204, Level = LogLevel.Critical, Message = "The inspection worker failed: {Error}")]
    public static partial void WorkerFailed(this ILogger log, Exception exception, string error);

    [LoggerMessage(EventId = 205, Level = LogLevel.Error, Message = "A batch of {Count} failed: {Error}; reconciling and retrying its files")]
    public static partial void BatchFailed(this ILogger log, Exception exception, int count, string error);

    [LoggerMessage(EventId = 206, Level = LogLevel.Debug, Message = "Batch of {Count} done in {Ms:F0} ms")]
    public static partial void BatchDone(this ILogger log, int count, double ms);

    [LoggerMessage(EventId = 207, Level = LogLevel.Warning, Message = "Quarantining {Name}: {Reason}")]
    public static partial void Quarantining(this ILogger log, string name, string reason);

    [LoggerMessage(EventId = 208, Level = LogLevel.Warning, Message = "{Name} disappeared from the inbox before it was recorded; no record")]
    public static partial void VanishedBeforeRecord(this ILogger log, string name);

    [LoggerMessage(EventId = 209, Level = LogLevel.Warning, Message = "{Name} disappeared from the inbox after it was scored; its record {Id} stays")]
    public static partial void VanishedAfterRecord(this ILogger log, string name, string id);

    [LoggerMessage(EventId = 210, Level = LogLevel.Error, Message = "The {What} of {Name} failed: {Error}; the record goes without it")]
    public static partial void HeatmapFailed(this ILogger log, Exception exception, string what, string name, string error);

    [LoggerMessage(EventId = 211, Level = LogLevel.Error, Message = "{What} failed (attempt {Attempt}): {Error}; retrying in {DelayMs} ms")]
    public static partial void Retrying(this ILogger log, Exception exception, string what, int attempt, string error, int delayMs);

    // Outbox

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Cut {Bytes} bytes of a record torn by a crash off {Results}; its image is still in the inbox and is scored again")]
    public static partial void TornTailCut(this ILogger log, long bytes, string results);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Checkpoint offset {Offset} is past the end of {Results} ({Length} bytes): the file was replaced; re-examining every record")]
    public static partial void CheckpointPastEnd(this ILogger log, long offset, string results, long length);

    [LoggerMessage(EventId = 303, Level = LogLevel.Error, Message = "Skipping a line of {Results} that is not a record: {Line}")]
    public static partial void NotARecord(this ILogger log, string results, string line);

    [LoggerMessage(EventId = 304, Level = LogLevel.Information, Message = "Recovered: {Name} (record {Id}) moved to {Path} after a restart")]
    public static partial void Recovered(this ILogger log, string name, string id, string path);

    [LoggerMessage(EventId = 305, Level = LogLevel.Warning, Message = "Record {Id} names {Name}, but the image is neither in the inbox, in staging nor at {Path}: it was removed by hand")]
    public static partial void RecordWithoutImage(this ILogger log, string id, string name, string path);

    [LoggerMessage(EventId = 306, Level = LogLevel.Warning, Message = "Staged file {File} had no record; returned to the inbox as {Back}")]
    public static partial void OrphanReturned(this ILogger log, string file, string back);

    [LoggerMessage(EventId = 307, Level = LogLevel.Information, Message = "Reconciled {Pending} records after the checkpoint: {Finished} moves finished")]
    public static partial void Reconciled(this ILogger log, int pending, int finished);

    // Banks (the product is "default" for the bank of Inspection:Bank)

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Product {Product}: bank {Bank} loaded: id {BankId}, thresholds ng {Threshold}, review {ReviewThreshold}, pixel {PixelThreshold}, about {Mb:F1} MB")]
    public static partial void BankLoaded(this ILogger log, string product, string bank, string bankId, double threshold, double? reviewThreshold, double? pixelThreshold, double mb);

    [LoggerMessage(EventId = 402, Level = LogLevel.Information, Message = "Product {Product}: switched bank {OldId} -> {NewId} (threshold {Threshold})")]
    public static partial void BankSwitched(this ILogger log, string product, string oldId, string newId, double threshold);

    [LoggerMessage(EventId = 403, Level = LogLevel.Error, Message = "Product {Product}: refused the new bank at {Bank}: {Reason}; keeping bank {BankId}")]
    public static partial void BankRefused(this ILogger log, Exception exception, string product, string bank, string reason, string bankId);

    [LoggerMessage(EventId = 404, Level = LogLevel.Information, Message = "Product {Product}: bank file {Bank} was rewritten with the same content (id {BankId}); nothing to switch")]
    public static partial void BankUnchanged(this ILogger log, string product, string bank, string bankId);

    [LoggerMessage(EventId = 405, Level = LogLevel.Information, Message = "Product {Product}: new bank {BankId} loaded in {Ms:F0} ms; switching after the batch in flight")]
    public static partial void BankReplacementLoaded(this ILogger log, string product, string bankId, double ms);

    [LoggerMessage(EventId = 406, Level = LogLevel.Information, Message = "Product {Product}: bank {BankId} (about {Mb:F1} MB) unloaded, the least recently used; {LoadedMb:F1} MB loaded, budget {Budget}")]
    public static partial void BankUnloaded(this ILogger log, string product, string bankId, double mb, double loadedMb, string budget);

    [LoggerMessage(EventId = 407, Level = LogLevel.Information, Message = "Product {Product}: bank {BankId} loaded on demand in {Ms:F0} ms (about {Mb:F1} MB); {LoadedMb:F1} MB loaded, budget {Budget}")]
    public static partial void BankLoadedOnDemand(this ILogger log, string product, string bankId, double ms, double mb, double loadedMb, string budget);

    [LoggerMessage(EventId = 408, Level = LogLevel.Warning, Message = "Product {Product}: its bank alone (about {Mb:F1} MB) is larger than Inspection:BankMemoryBudgetMb ({BudgetMb:F0} MB); loaded anyway, every other bank unloaded")]
    public static partial void BankOverBudget(this ILogger log, string product, double mb, double budgetMb);

    [LoggerMessage(EventId = 409, Level = LogLevel.Information, Message = "Product {Product}: new bank {BankId} accepted while unloaded; it is loaded for the next image")]
    public static partial void BankReplacementAccepted(this ILogger log, string product, string bankId);

    [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "Serving {Count} products ({Products}): {Loaded} banks loaded, about {LoadedMb:F1} MB; memory budget {Budget}")]
    public static partial void ProductsServing(this ILogger log, int count, string products, int loaded, double loadedMb, string budget);

    // Health

    [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "Status: processed {Processed}, ok {Ok}, review {Review}, ng {Ng}, quarantined {Quarantined}, backlog {Backlog}, {MsPerImage:F1} ms/image, errors {Errors}, bank {BankId}, banks loaded {BanksLoaded} of {Products}")]
    public static partial void Status(this ILogger log, long processed, long ok, long review, long ng, long quarantined, int backlog, double msPerImage, long errors, string? bankId, int banksLoaded, int products);

    [LoggerMessage(EventId = 502, Level = LogLevel.Warning, Message = "Cannot write {Health}: {Error}")]
    public static partial void HealthUnwritable(this ILogger log, Exception exception, string health, string error);

    // Ownership

    [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "Holding {Folder} for this daemon (pid {Pid}; lock {LockFile})")]
    public static partial void FolderOwned(this ILogger log, string folder, int pid, string lockFile);

    [LoggerMessage(EventId = 602, Level = LogLevel.Information, Message = "Created the inbox folder {Folder} of product {Product}")]
    public static partial void ProductFolderCreated(this ILogger log, string folder, string product);

    // Submissions (images from programs: the HTTP API, MQTT)

    [LoggerMessage(EventId = 701, Level = LogLevel.Debug, Message = "Submission {Id} accepted: {Name} for product {Product} from {Source}, {Bytes} bytes")]
    public static partial void SubmissionAccepted(this ILogger log, string id, string name, string product, string source, long bytes);

    [LoggerMessage(EventId = 702, Level = LogLevel.Information, Message = "Recovered submission {Id} ({Name}, product {Product}) after a restart: into the inbox as {Path}")]
    public static partial void SubmissionRecovered(this ILogger log, string id, string name, string product, string path);

    [LoggerMessage(EventId = 703, Level = LogLevel.Information, Message = "Removed {File}: an upload cut short by a crash before it was accepted (its sender got no answer)")]
    public static partial void SubmissionIncompleteDropped(this ILogger log, string file);

    [LoggerMessage(EventId = 704, Level = LogLevel.Debug, Message = "Removed the ticket of submission {Id} ({Name}): recorded before a restart")]
    public static partial void SubmissionTicketDropped(this ILogger log, string id, string name);

    [LoggerMessage(EventId = 705, Level = LogLevel.Warning, Message = "Submission {Id} ({Name}) was removed from the inbox before it was recorded; no record")]
    public static partial void SubmissionVanished(this ILogger log, string id, string name);

    [LoggerMessage(EventId = 706, Level = LogLevel.Warning, Message = "Cannot read the submission ticket {Ticket}: {Error}; its image is recorded as a plain inbox file")]
    public static partial void SubmissionTicketUnreadable(this ILogger log, string ticket, string error);

    // HTTP API

    [LoggerMessage(EventId = 711, Level = LogLevel.Information, Message = "HTTP API on {Urls} (API key {KeyState}); live page at /, metrics at /metrics")]
    public static partial void HttpListening(this ILogger log, string urls, string keyState);

    [LoggerMessage(EventId = 712, Level = LogLevel.Debug, Message = "POST /v1/inspect refused with {Status}: {Reason}")]
    public static partial void UploadRefused(this ILogger log, int status, string reason);

    [LoggerMessage(EventId = 713, Level = LogLevel.Warning, Message = "Cannot keep an upload for product {Product}: {Error}; answered 503")]
    public static partial void UploadUnstorable(this ILogger log, Exception exception, string product, string error);

    [LoggerMessage(EventId = 714, Level = LogLevel.Information, Message = "Submission {Id} ({Name}) had no record after {Seconds:F0} s ({Why}); answered 202, its record comes later under that id")]
    public static partial void UploadAnsweredLater(this ILogger log, string id, string name, double seconds, string why);

    [LoggerMessage(EventId = 715, Level = LogLevel.Warning, Message = "Refused {Method} {Path} from {Remote}: no valid API key")]
    public static partial void ApiKeyRefused(this ILogger log, string method, string path, string? remote);

    [LoggerMessage(EventId = 716, Level = LogLevel.Warning, Message = "{Results} is shorter than what was read of it ({Length} < {Read} bytes): it was replaced; reading it again")]
    public static partial void JournalReplaced(this ILogger log, string results, long length, long read);

    // MQTT publishing

    [LoggerMessage(EventId = 801, Level = LogLevel.Information, Message = "MQTT: connected to {Server} as {ClientId}; results go to {Results}, the retained status to {Status}")]
    public static partial void MqttConnected(this ILogger log, string server, string clientId, string results, string status);

    [LoggerMessage(EventId = 802, Level = LogLevel.Warning, Message = "MQTT: cannot connect to {Server} (attempt {Attempt}): {Error}; trying again in {DelayMs} ms")]
    public static partial void MqttConnectFailed(this ILogger log, string server, int attempt, string error, int delayMs);

    [LoggerMessage(EventId = 803, Level = LogLevel.Warning, Message = "MQTT: connection to {Server} lost ({Reason}); records wait in the journal and are published after reconnecting")]
    public static partial void MqttConnectionLost(this ILogger log, string server, string reason);

    [LoggerMessage(EventId = 804, Level = LogLevel.Error, Message = "MQTT: the broker refused record {Id} on {Topic}: {Reason}; publishing again from it in {DelayMs} ms")]
    public static partial void MqttRecordRefused(this ILogger log, string id, string topic, string reason, int delayMs);

    [LoggerMessage(EventId = 805, Level = LogLevel.Warning, Message = "MQTT: publishing record {Id} failed: {Error}; publishing again from it once connected")]
    public static partial void MqttPublishFailed(this ILogger log, string id, string error);

    [LoggerMessage(EventId = 806, Level = LogLevel.Error, Message = "MQTT: skipping a line of {Results} at byte {Offset} that is not a record: {Line}")]
    public static partial void MqttNotARecord(this ILogger log, string results, long offset, string line);

    [LoggerMessage(EventId = 807, Level = LogLevel.Warning, Message = "MQTT: the publishing cursor {Cursor} does not fit {Results} ({Problem}); publishing the journal from its start")]
    public static partial void MqttCursorReset(this ILogger log, string cursor, string results, string problem);

    [LoggerMessage(EventId = 808, Level = LogLevel.Information, Message = "MQTT: publishing {Results} from byte {Offset}; {Lag} records not yet published")]
    public static partial void MqttPublishingFrom(this ILogger log, string results, long offset, long lag);

    [LoggerMessage(EventId = 809, Level = LogLevel.Warning, Message = "MQTT: cannot write the publishing cursor {Cursor}: {Error}; records since its last write may be published again after a restart")]
    public static partial void MqttCursorUnwritable(this ILogger log, Exception exception, string cursor, string error);

    [LoggerMessage(EventId = 810, Level = LogLevel.Information, Message = "MQTT: stopped after publishing {Published} records in this run; {Lag} records wait in the journal for the next start")]
    public static partial void MqttStopped(this ILogger log, long published, long lag);

    [LoggerMessage(EventId = 811, Level = LogLevel.Warning, Message = "MQTT: Inspection:Mqtt:Password is sent to {Server} in clear text (Inspection:Mqtt:UseTls is false)")]
    public static partial void MqttPasswordWithoutTls(this ILogger log, string server);

    [LoggerMessage(EventId = 812, Level = LogLevel.Warning, Message = "MQTT: publishing the {State} status failed: {Error}")]
    public static partial void MqttStatusFailed(this ILogger log, string state, string error);

    [LoggerMessage(EventId = 813, Level = LogLevel.Warning, Message = "MQTT: a step after connecting failed: {Error}")]
    public static partial void MqttAfterConnectFailed(this ILogger log, Exception exception, string error);

    [LoggerMessage(EventId = 814, Level = LogLevel.Error, Message = "MQTT: publishing stopped by an error: {Error}; it goes on from the cursor {When}")]
    public static partial void MqttPublisherFailed(this ILogger log, Exception exception, string error, string when);

    // Images in over MQTT (the intake's own connection)
    [LoggerMessage(EventId = 820, Level = LogLevel.Information, Message = "MQTT intake: connected to {Server} as {ClientId} (session kept by the broker: {SessionPresent}), subscribed to {Filter}")]
    public static partial void MqttIntakeConnected(this ILogger log, string server, string clientId, bool sessionPresent, string filter);

    [LoggerMessage(EventId = 821, Level = LogLevel.Warning, Message = "MQTT intake: cannot connect to {Server} (attempt {Attempt}): {Error}; next try in {DelayMs} ms (folder images are scored meanwhile)")]
    public static partial void MqttIntakeConnectFailed(this ILogger log, string server, int attempt, string error, int delayMs);

    [LoggerMessage(EventId = 822, Level = LogLevel.Warning, Message = "MQTT intake: connection to {Server} lost: {Reason}; the {Held} messages not yet acknowledged come again after the reconnect")]
    public static partial void MqttIntakeConnectionLost(this ILogger log, string server, string reason, long held);

    [LoggerMessage(EventId = 823, Level = LogLevel.Debug, Message = "MQTT intake: {Topic} ({Size} bytes, message {MessageId}) taken as submission {Id}")]
    public static partial void MqttIntakeTaken(this ILogger log, string topic, int size, string messageId, string id);

    [LoggerMessage(EventId = 824, Level = LogLevel.Information, Message = "MQTT intake: message {MessageId} on {Topic} came again; it is submission {Id} of this daemon ({State}), acknowledged without a second record")]
    public static partial void MqttIntakeRedelivery(this ILogger log, string messageId, string topic, string id, string state);

    [LoggerMessage(EventId = 825, Level = LogLevel.Warning, Message = "MQTT intake: message {MessageId} on {Topic}: user property '{Key}' not kept: {Problem}")]
    public static partial void MqttIntakePropertyDropped(this ILogger log, string messageId, string topic, string key, string problem);

    [LoggerMessage(EventId = 826, Level = LogLevel.Warning, Message = "MQTT intake: message {MessageId} on {Topic} is kept to be quarantined: {Reason}")]
    public static partial void MqttIntakeQuarantined(this ILogger log, string messageId, string topic, string reason);

    [LoggerMessage(EventId = 827, Level = LogLevel.Error, Message = "MQTT intake: message {MessageId} on {Topic} cannot be kept: {Error}; it stays unacknowledged and is tried again in {DelayMs} ms")]
    public static partial void MqttIntakeKeepFailed(this ILogger log, string messageId, string topic, string error, int delayMs);

    [LoggerMessage(EventId = 828, Level = LogLevel.Information, Message = "MQTT intake: {Records} message identities read back from the journal's end, {Pending} submissions from MQTT still waiting for their record")]
    public static partial void MqttIntakeRemembered(this ILogger log, int records, int pending);

    [LoggerMessage(EventId = 829, Level = LogLevel.Information, Message = "MQTT intake: stopped after receiving {Received} image messages and acknowledging {Acknowledged} in this run ({Redelivered} redeliveries recognised); {Held} unacknowledged ones come again at the next start")]
    public static partial void MqttIntakeStopped(this ILogger log, long received, long acknowledged, long redelivered, long held);

    [LoggerMessage(EventId = 830, Level = LogLevel.Information, Message = "MQTT intake: submission {Id} is recorded, but the connection its message came on is gone; its redelivery will be acknowledged")]
    public static partial void MqttIntakeAckAfterReconnect(this ILogger log, string id);

    [LoggerMessage(EventId = 831, Level = LogLevel.Error, Message = "MQTT intake: the broker {Server} refused the subscription to {Filter}: {Reason}")]
    public static partial void MqttIntakeSubscribeRefused(this ILogger log, string server, string filter, string reason);

    [LoggerMessage(EventId = 832, Level = LogLevel.Warning, Message = "MQTT intake: submission {Id} left the inbox before it was recorded (removed by hand): its message is acknowledged without a record")]
    public static partial void MqttIntakeVanished(this ILogger log, string id);

    // The operator's feedback and drift (900-949)

    [LoggerMessage(EventId = 900, Level = LogLevel.Information, Message = "Feedback: watching {Products} products' good images ({Folders}); an update starts at {MinImages} images")]
    public static partial void FeedbackWatching(this ILogger log, int products, string folders, int minImages);

    [LoggerMessage(EventId = 901, Level = LogLevel.Information, Message = "Product {Product}: feedback update of {Images} images started in the background: {Version} from v{Parent}")]
    public static partial void FeedbackUpdateStarted(this ILogger log, string product, int images, string version, int parent);

    [LoggerMessage(EventId = 902, Level = LogLevel.Information, Message = "Product {Product}: feedback update made v{Version} current (id {BankId}, {Added} vectors added, ng threshold {OldThreshold} -> {NewThreshold}) in {Seconds:F1} s; the switch follows between batches")]
    public static partial void FeedbackVersionCurrent(this ILogger log, string product, int version, string bankId, long added, double oldThreshold, double newThreshold, double seconds);

    [LoggerMessage(EventId = 903, Level = LogLevel.Warning, Message = "Product {Product}: feedback update v{Version} written but not made current: {Reason}")]
    public static partial void FeedbackAwaitingConfirmation(this ILogger log, string product, int version, string reason);

    [LoggerMessage(EventId = 904, Level = LogLevel.Information, Message = "Product {Product}: v{Version} confirmed by the operator and made current")]
    public static partial void FeedbackConfirmed(this ILogger log, string product, int version);

    [LoggerMessage(EventId = 905, Level = LogLevel.Error, Message = "Product {Product}: feedback update failed, the current bank stays: {Error}")]
    public static partial void FeedbackUpdateFailed(this ILogger log, Exception exception, string product, string error);

    [LoggerMessage(EventId = 906, Level = LogLevel.Warning, Message = "Product {Product}: feedback image {Name} moved to feedback/rejected/: {Reason}")]
    public static partial void FeedbackImageRejected(this ILogger log, string product, string name, string reason);

    [LoggerMessage(EventId = 907, Level = LogLevel.Information, Message = "Product {Product}: removed {File}, a temp file of a killed bank writer (never loaded)")]
    public static partial void FeedbackLeftoverRemoved(this ILogger log, string product, string file);

    [LoggerMessage(EventId = 908, Level = LogLevel.Error, Message = "Product {Product}: feedback: {Error}")]
    public static partial void FeedbackError(this ILogger log, Exception exception, string product, string error);

    [LoggerMessage(EventId = 920, Level = LogLevel.Warning, Message = "Product {Product}: drift {Figure:F2}: the recent good images' median score {RecentMedian:F3} is away from the calibration's median {CalibrationMedian:F3} by more than {WarnAt} x its spread (highest good score {CalibrationHigh:F3}; {Samples} recent scores): lighting, material or camera may have changed")]
    public static partial void DriftWarning(this ILogger log, string product, double figure, double recentMedian, double calibrationMedian, double calibrationHigh, int samples, double warnAt);

    [LoggerMessage(EventId = 921, Level = LogLevel.Information, Message = "Product {Product}: drift back to {Figure:F2} ({Samples} recent scores)")]
    public static partial void DriftCleared(this ILogger log, string product, double figure, int samples);
}
