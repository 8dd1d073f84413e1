using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PatchCore.Inspection.Banks;
using PatchCore.Inspection.Observability;

namespace PatchCore.Inspection.Ownership;

/// <summary>
/// One owner per inbox and per outbox: two daemons on one inbox would both take its files, two on one outbox would
/// interleave one journal. The first hosted service, so the locks are taken after the options are validated and
/// before anything reads or writes the folders (health.json, reconciliation, the bank load). A refusal stops the
/// start like any other start failure (exit code 2). The locks are held until the host is disposed, i.e. for the
/// process's lifetime, and the kernel releases them if the process dies.
/// </summary>
internal sealed class FolderOwnership : IHostedService, IDisposable
{
    private readonly InspectionOptions _options;
    private readonly Layout _layout;
    private readonly ProductCatalog _products;
    private readonly ILogger<FolderOwnership> _log;
    private FolderLock? _inbox;
    private FolderLock? _outbox;

    public FolderOwnership(InspectionOptions options, Layout layout, ProductCatalog products, ILogger<FolderOwnership> log)
    {
        _options = options;
        _layout = layout;
        _products = products;
        _log = log;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var me = LockHolder.ThisProcess(_options);
        _inbox = FolderLock.Acquire("Inbox", _layout.Inbox, _layout.InboxStateFolder, "inbox", me);
        try
        {
            _outbox = FolderLock.Acquire("Outbox", _layout.Outbox, _layout.OutboxStateFolder, "outbox", me);
        }
        catch
        {
            _inbox.Dispose();
            _inbox = null;
            throw;
        }
        _log.FolderOwned(_inbox.Folder, me.Pid, _inbox.LockFile);
        _log.FolderOwned(_outbox.Folder, me.Pid, _outbox.LockFile);
        CreateProductFolders();
        return Task.CompletedTask;
    }

    /// <summary>Each named product's inbox folder, made once the inbox is ours, so writers have it from the start.</summary>
    private void CreateProductFolders()
    {
        foreach (var product in _products.All.Where(p => !p.IsDefault))
        {
            string folder = _layout.ProductInbox(product.Name);
            if (Directory.Exists(folder)) continue;
            Directory.CreateDirectory(folder);
            _log.ProductFolderCreated(folder, product.Name);
        }
    }

    /// <summary>Nothing: the worker may still be finishing; the locks go with the host (<see cref="Dispose"/>).</summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _outbox?.Dispose();
        _inbox?.Dispose();
        _outbox = _inbox = null;
    }
}
