using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Observability;
using PatchCore.Inspection.Outbox;
using PatchCore.Inspection.Processing;

namespace PatchCore.Inspection.Intake;

/// <summary>
/// Takes images from programs (the HTTP API, MQTT messages through <see cref="MqttImageIntake"/>) into the daemon's one path: the bytes become a file in the
/// product's inbox folder exactly as a well-behaved camera writes one, and the caller awaits that file's record. So a
/// submitted image is batched with folder images, scored by the same bank, recorded in the same journal, moved to the
/// same outbox, and survives a crash the same way.
/// <para>
/// <see cref="SubmitAsync"/>, step by step: check the product, the name and the metadata; stream the bytes to
/// <c>Inbox/.inspection/uploads/ID.upload</c> (hidden: the intake never takes it), counting them against
/// <c>Inspection:MaxFileBytes</c>, and fsync; write the ticket <c>ID.json</c> beside it durably
/// (<see cref="SubmissionTicket"/>); rename the bytes into the product's inbox folder as <c>upload-ID.ext</c> (one
/// atomic rename, so the intake takes the file at once) and fsync that folder. Once it returns, the image gets exactly
/// one record: the batch that inspects the file reads the ticket (<see cref="Resolve"/>), so the record carries the
/// original name, the receive time, the source and metadata and the submission's id, and the caller's task completes
/// once the batch is committed: its records fsynced, its images moved where the records say (<see cref="Recorded"/>).
/// </para>
/// <para>
/// A crash at any point leaves nothing half done: before the ticket, the upload was never accepted (its caller got no
/// answer) and <see cref="Recover"/> removes the bytes; with the ticket but before the rename, <see cref="Recover"/>
/// finishes the rename, so the image is inspected after the restart; after the rename it is an ordinary inbox file with a
/// ticket. A refused submission (<see cref="SubmissionRefusedException"/>) leaves nothing behind.
/// </para>
/// Bounding how many submissions wait at once is the caller's: each source has its own limit (the HTTP API's is
/// <c>Inspection:Http:MaxPending</c>); <see cref="Pending"/> says how many wait now. Thread-safe.
/// </summary>
internal sealed partial class ImageSubmissions
{
    /// <summary>How an inbox file made by a submission is named: <c>upload-</c> + the id (32 hex digits) + the extension.</summary>
    public const string InboxPrefix = "upload-";

    /// <summary>
    /// The inbox folder of submissions kept only to be quarantined (<see cref="Submission.Quarantine"/>): no product can
    /// have this name (names start with a letter or a digit), so the router refuses whatever lies there, and the batch
    /// records it with the ticket's reason.
    /// </summary>
    public const string QuarantineFolderName = "_refused";

    private const string TicketExtension = ".json", BytesExtension = ".upload";
    private const int MaxMetadata = 16, MaxMetadataValue = 512, MaxNameLength = 200;

    private readonly Layout _layout;
    private readonly ProductCatalog _products;
    private readonly InspectionOptions _options;
    private readonly InboxIntake _intake;
    private readonly DaemonStatus _status;
    private readonly WorkerFault _fault;
    private readonly ILogger<ImageSubmissions> _log;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<InspectionRecord>> _waiting = new(StringComparer.Ordinal);
    // Set once Recover has run: until then nothing is kept, as Recover would take an upload in flight for one a crash cut short.
    private readonly TaskCompletionSource _recovered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ImageSubmissions(Layout layout, ProductCatalog products, InspectionOptions options, InboxIntake intake,
        DaemonStatus status, WorkerFault fault, ILogger<ImageSubmissions> log)
    {
        _layout = layout;
        _products = products;
        _options = options;
        _intake = intake;
        _status = status;
        _fault = fault;
        _log = log;
    }

    /// <summary>Submissions accepted by this process whose record has not come yet.</summary>
    public int Pending => _waiting.Count;

    /// <summary>
    /// Keeps the image durably in its product's inbox folder and returns once it is there; await
    /// <see cref="SubmittedImage.Record"/> for its record. Reads <paramref name="content"/> to its end.
    /// </summary>
    /// <exception cref="SubmissionRefusedException">Refused before anything was kept (unknown product, empty, too
    /// large, bad name or metadata, daemon stopping).</exception>
    /// <exception cref="IOException">The bytes could not be read from <paramref name="content"/> or written (disk
    /// full); nothing was kept.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancel"/> fired before the image was kept; nothing was kept.</exception>
    public async Task<SubmittedImage> SubmitAsync(Submission submission, Stream content, CancellationToken cancel)
    {
        var receivedAt = DateTimeOffset.UtcNow;
        Check(submission);
        if (!_recovered.Task.IsCompleted) await WaitForRecoveryAsync(submission, cancel).ConfigureAwait(false);
        string id = Guid.CreateVersion7().ToString("N");
        string name = PlainName(submission.OriginalName);
        string inboxName = InboxPrefix + id + InboxExtension(name);
        string folder = _layout.UploadsFolder;
        string bytesPath = Path.Combine(folder, id + BytesExtension), ticketPath = Path.Combine(folder, id + TicketExtension);
        TaskCompletionSource<InspectionRecord>? waiting = null;
        bool moved = false;
        try
        {
            Directory.CreateDirectory(folder);
            long size;
            await using (var file = new FileStream(bytesPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                size = await CopyBoundedAsync(content, file, submission.KeepRefused, cancel).ConfigureAwait(false);
                if (size == 0 && !submission.KeepRefused) throw new SubmissionRefusedException(SubmissionRefusal.Empty, "the image is empty (no bytes)");
                file.Flush(flushToDisk: true);
            }
            cancel.ThrowIfCancellationRequested();
            var ticket = new SubmissionTicket(id, submission.Product, inboxName, name, submission.Source, submission.Metadata, receivedAt)
            {
                MessageId = submission.MessageId,
                Quarantine = submission.KeepRefused ? submission.Quarantine : null,
            };
            Durable.WriteAllBytes(ticketPath, JsonSerializer.SerializeToUtf8Bytes(ticket, RecordJson.Default.SubmissionTicket));
            // Registered before the rename: from the rename on, the batch may record it at any moment.
            waiting = new TaskCompletionSource<InspectionRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting[id] = waiting;
            string target = Path.Combine(InboxFolderOf(ticket), inboxName);
            if (ticket.Quarantine is not null) Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(bytesPath, target);
            moved = true;
            Durable.FsyncFolder(Path.GetDirectoryName(target)!);
            _intake.Announce(target);
            _log.SubmissionAccepted(id, name, submission.Product, submission.Source, size);
            return new SubmittedImage(id, submission.Product, name, size, waiting.Task);
        }
        catch when (!moved)
        {
            if (waiting is not null) _waiting.TryRemove(id, out _);
            Durable.TryDelete(bytesPath);
            Durable.TryDelete(ticketPath);
            throw;
        }
    }

    /// <summary>
    /// The inbox file as the batch inspects it: a submission's file (<c>upload-ID.ext</c> with its ticket, in the product's
    /// folder the ticket names) takes the original name, the receive time and the origin from its ticket; any other file
    /// is returned as it is (a camera's file that happens to be called <c>upload-...</c> has no ticket).
    /// </summary>
    public InboxFile Resolve(InboxFile file)
    {
        if (file.IsLink || IdOf(file.Name) is not { } id) return file;
        var ticket = ReadTicket(Path.Combine(_layout.UploadsFolder, id + TicketExtension));
        if (ticket is null || ticket.Id != id || ticket.InboxName != file.Name) return file;
        if (ticket.Quarantine is { } reason)
        {
            // Kept only to be quarantined: the router refused it for its folder; the record says why it came.
            return Path.GetDirectoryName(file.Path) == Path.Combine(_layout.Inbox, QuarantineFolderName)
                ? file with { Name = ticket.OriginalName, ReceivedAt = ticket.ReceivedAt, Submission = ticket, Refusal = reason, Product = null }
                : file;
        }
        if (file.Refusal is not null || ticket.Product != file.Product) return file;
        return file with { Name = ticket.OriginalName, ReceivedAt = ticket.ReceivedAt, Submission = ticket };
    }

    /// <summary>
    /// The record of an accepted submission of an earlier run (or of this one) whose ticket is still there: completes
    /// with its record once its batch is committed. Null when its ticket is gone, that is when it was recorded already
    /// (or never accepted). Used by the MQTT intake to acknowledge a message that was redelivered after a crash once the
    /// image it carried before the crash is recorded, without a second submission.
    /// </summary>
    public Task<InspectionRecord>? Track(string id)
    {
        var waiting = _waiting.GetOrAdd(id, _ => new TaskCompletionSource<InspectionRecord>(TaskCreationOptions.RunContinuationsAsynchronously));
        // Registered first, looked at second: a record committed in between has removed its ticket after this registration.
        if (File.Exists(Path.Combine(_layout.UploadsFolder, id + TicketExtension))) return waiting.Task;
        if (_waiting.TryRemove(new KeyValuePair<string, TaskCompletionSource<InspectionRecord>>(id, waiting))) return waiting.Task.IsCompleted ? waiting.Task : null;
        return waiting.Task;
    }

    /// <summary>The tickets of submissions accepted and not yet recorded (this run's and, after a crash, earlier runs').</summary>
    public IReadOnlyList<SubmissionTicket> Tickets()
    {
        if (!Directory.Exists(_layout.UploadsFolder)) return [];
        var tickets = new List<SubmissionTicket>();
        foreach (string path in Directory.EnumerateFiles(_layout.UploadsFolder, "*" + TicketExtension))
            if (ReadTicket(path) is { } ticket && ticket.Id == Path.GetFileNameWithoutExtension(path)) tickets.Add(ticket);
        return tickets;
    }

    private string InboxFolderOf(SubmissionTicket ticket) =>
        ticket.Quarantine is not null ? Path.Combine(_layout.Inbox, QuarantineFolderName) : _layout.ProductInbox(ticket.Product);

    /// <summary>Called once a batch is committed (records durable, images moved): each submission among them is done (its ticket goes) and its caller gets its record.</summary>
    public void Recorded(IEnumerable<InspectionRecord> records)
    {
        foreach (var record in records)
        {
            if (record.Submission is null) continue;
            Durable.TryDelete(Path.Combine(_layout.UploadsFolder, record.Id + TicketExtension));
            if (_waiting.TryRemove(record.Id, out var waiting)) waiting.TrySetResult(record);
        }
    }

    /// <summary>The submission's file left the inbox before it was recorded (removed by hand): no record will come.</summary>
    public void Vanished(InboxFile file)
    {
        if (file.Submission is not { } ticket) return;
        Durable.TryDelete(Path.Combine(_layout.UploadsFolder, ticket.Id + TicketExtension));
        _log.SubmissionVanished(ticket.Id, ticket.OriginalName);
        if (_waiting.TryRemove(ticket.Id, out var waiting))
            waiting.TrySetException(new FileNotFoundException($"{ticket.OriginalName} (submission {ticket.Id}) was removed from the inbox before it was recorded", file.Path));
    }

    /// <summary>
    /// After a crash, before the intake starts: every submission with a ticket whose bytes were not yet renamed into the
    /// inbox goes there now (it was accepted, so it must be inspected); bytes without a ticket (an upload cut short, never
    /// accepted) are removed, and so are tickets whose image is no longer in the inbox (recorded before the crash; the
    /// record holds everything the ticket did) and the temp file of a ticket whose write the crash cut short. Returns how
    /// many submissions were put into the inbox.
    /// </summary>
    public int Recover()
    {
        try
        {
            return RecoverLeftovers();
        }
        finally
        {
            _recovered.TrySetResult(); // submissions that arrived during the start go on now
        }
    }

    private int RecoverLeftovers()
    {
        string folder = _layout.UploadsFolder;
        if (!Directory.Exists(folder)) return 0;
        int finished = 0;
        foreach (string ticketPath in Directory.EnumerateFiles(folder, "*" + TicketExtension))
        {
            string id = Path.GetFileNameWithoutExtension(ticketPath);
            string bytesPath = Path.Combine(folder, id + BytesExtension);
            var ticket = ReadTicket(ticketPath);
            if (ticket is null || ticket.Id != id)
            {
                // Tickets are written atomically: a bad one was made by hand. Its bytes, if any, go in as a plain image.
                if (File.Exists(bytesPath)) finished += MoveIn(bytesPath, _layout.Inbox, "recovered-" + id + BytesExtension, id, "(no readable ticket)", "(none)");
                Durable.TryDelete(ticketPath);
                continue;
            }
            string productFolder = InboxFolderOf(ticket);
            string target = Path.Combine(productFolder, ticket.InboxName);
            if (File.Exists(bytesPath))
            {
                // A product dropped from the settings meanwhile: its folder is quarantined by the router, with a record.
                Directory.CreateDirectory(productFolder);
                finished += MoveIn(bytesPath, productFolder, ticket.InboxName, id, ticket.OriginalName, ticket.Product);
            }
            else if (!Links.EntryExists(target))
            {
                Durable.TryDelete(ticketPath);
                _log.SubmissionTicketDropped(id, ticket.OriginalName);
            }
        }
        foreach (string bytesPath in Directory.EnumerateFiles(folder, "*" + BytesExtension))
        {
            if (File.Exists(Path.ChangeExtension(bytesPath, TicketExtension))) continue;
            Durable.TryDelete(bytesPath);
            _log.SubmissionIncompleteDropped(bytesPath);
        }
        // A ticket whose atomic write a kill cut short: its upload was never accepted (no answer went out).
        Durable.RemoveDeadTemps(folder);
        return finished;
    }

    private int MoveIn(string bytesPath, string folder, string name, string id, string originalName, string product)
    {
        string target = Layout.UniqueDestination(folder, name, new HashSet<string>(StringComparer.Ordinal));
        File.Move(bytesPath, target);
        Durable.FsyncFolder(folder);
        _log.SubmissionRecovered(id, originalName, product, target);
        return 1;
    }

    /// <summary>
    /// A submission that arrives while the daemon starts (reconciling what a restart left) waits for
    /// <see cref="Recover"/>, and is refused if the daemon fails or begins to stop meanwhile.
    /// </summary>
    private async Task WaitForRecoveryAsync(Submission submission, CancellationToken cancel)
    {
        while (!_recovered.Task.IsCompleted)
        {
            await Task.WhenAny(_recovered.Task, Task.Delay(100, cancel)).ConfigureAwait(false);
            cancel.ThrowIfCancellationRequested();
            Check(submission);
        }
    }

    private void Check(Submission submission)
    {
        if (submission.Quarantine is not null && !submission.KeepRefused)
            throw new ArgumentException("Submission.Quarantine needs Submission.KeepRefused", nameof(submission));
        if (submission.Quarantine is null && !_products.Contains(submission.Product))
            throw new SubmissionRefusedException(SubmissionRefusal.UnknownProduct, submission.Product == Product.DefaultName
                ? $"there is no default product (Inspection:Bank is not set); name one of the products: {_products.NamedList}"
                : $"there is no product '{submission.Product}' (products: {string.Join(", ", _products.All.Select(p => p.Name))})");
        if (!KeyPattern().IsMatch(submission.Source))
            throw new SubmissionRefusedException(SubmissionRefusal.Invalid, $"the source '{submission.Source}' is not 1-64 letters, digits, '-', '_' or '.'");
        if (submission.OriginalName is { Length: > 1024 })
            throw new SubmissionRefusedException(SubmissionRefusal.Invalid, "the original name is longer than 1024 characters");
        if (submission.Metadata is { } metadata)
        {
            if (metadata.Count > MaxMetadata)
                throw new SubmissionRefusedException(SubmissionRefusal.Invalid, $"{metadata.Count} metadata entries; at most {MaxMetadata}");
            foreach (var (key, value) in metadata)
            {
                if (!KeyPattern().IsMatch(key))
                    throw new SubmissionRefusedException(SubmissionRefusal.Invalid, $"the metadata key '{key}' is not 1-64 letters, digits, '-', '_' or '.'");
                if (value.Length > MaxMetadataValue || value.Any(char.IsControl))
                    throw new SubmissionRefusedException(SubmissionRefusal.Invalid, $"the metadata value of '{key}' is longer than {MaxMetadataValue} characters or holds control characters");
            }
        }
        // After the checks of the request itself, so a bad request is told what is wrong with it even while stopping.
        if (_fault.Error is not null || _status.State is "stopping" or "stopped")
            throw new SubmissionRefusedException(SubmissionRefusal.NotRunning, $"the daemon is {(_fault.Error is null ? _status.State : "failed")} and takes no images");
    }

    private async Task<long> CopyBoundedAsync(Stream source, FileStream target, bool keepOversized, CancellationToken cancel)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            long total = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, cancel).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > _options.MaxFileBytes && !keepOversized)
                    throw new SubmissionRefusedException(SubmissionRefusal.TooLarge, $"the image is larger than Inspection:MaxFileBytes ({_options.MaxFileBytes} bytes)");
                await target.WriteAsync(buffer.AsMemory(0, read), cancel).ConfigureAwait(false);
            }
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The sender's name reduced to one plain file name for the outbox: the last path segment (either separator), no
    /// control characters, no leading dots (a hidden file), at most 200 characters keeping the extension; "upload" when
    /// nothing is left. It never names a place: the record's path is chosen by the daemon in the product's outbox.
    /// </summary>
    public static string PlainName(string? name)
    {
        string s = (name ?? "").Replace('\\', '/');
        s = s[(s.LastIndexOf('/') + 1)..];
        s = string.Concat(s.Where(c => !char.IsControl(c))).Trim().TrimStart('.').Trim();
        if (s.Length == 0) return "upload";
        if (s.Length <= MaxNameLength) return s;
        string extension = Path.GetExtension(s);
        if (extension.Length > 16) extension = "";
        return s[..(MaxNameLength - extension.Length)] + extension;
    }

    /// <summary>The extension the inbox file keeps (for whoever looks into the inbox): a short plain one the intake does not ignore, else none.</summary>
    private static string InboxExtension(string name)
    {
        string extension = Path.GetExtension(name);
        return ExtensionPattern().IsMatch(extension) && !InboxNames.IsIgnored("x" + extension) ? extension.ToLowerInvariant() : "";
    }

    /// <summary>The id in a submission's inbox name, or null when the name is not one.</summary>
    private static string? IdOf(string inboxName)
    {
        var match = InboxNamePattern().Match(inboxName);
        return match.Success ? match.Groups[1].Value : null;
    }

    private SubmissionTicket? ReadTicket(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), RecordJson.Default.SubmissionTicket);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            if (e is not FileNotFoundException) _log.SubmissionTicketUnreadable(path, e.Message);
            return null;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();

    [GeneratedRegex(@"^\.[A-Za-z0-9]{1,10}$", RegexOptions.CultureInvariant)]
    private static partial Regex ExtensionPattern();

    [GeneratedRegex(@"^upload-([0-9a-f]{32})(\.[A-Za-z0-9]{1,10})?$", RegexOptions.CultureInvariant)]
    private static partial Regex InboxNamePattern();
}
