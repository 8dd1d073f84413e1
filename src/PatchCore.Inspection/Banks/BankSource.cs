using PatchCore.Core;
using PatchCore.Core.MemoryBank;

namespace PatchCore.Inspection.Banks;

/// <summary>
/// Where a product's bank is loaded from. Without a memory budget a loaded bank is never unloaded, so it is loaded from
/// its file, as the single-bank daemon always did. With a budget a bank may be unloaded and loaded again later, by when
/// its file may have been replaced by a bad one or removed: the old bank would be gone although the rule is that a bad
/// new bank leaves the old one in service. So each version is copied into the outbox's state folder before it is
/// loaded, and the copy of the accepted version is what an unloaded bank is loaded again from.
/// Not thread-safe: the caller serialises the calls for one product.
/// </summary>
internal sealed class BankSource
{
    private readonly string? _accepted;
    private readonly string? _candidate;

    /// <param name="copyFolder">Where copies are kept; null = load from the file itself (no budget).</param>
    public BankSource(Product product, string? copyFolder)
    {
        LivePath = product.BankPath;
        if (copyFolder is null) return;
        _accepted = Path.Combine(copyFolder, product.Name + ".pcbank");
        _candidate = Path.Combine(copyFolder, product.Name + ".new.pcbank");
    }

    /// <summary>The product's bank file, as configured: a bank file, or a <c>NAME.current</c> pointer to the version in use
    /// (<see cref="BankVersions"/>), whose change (a new version, a rollback by command or by hand) is a hot reload.</summary>
    public string LivePath { get; }

    /// <summary>
    /// Loads the version now in the bank file (through a fresh copy when there is a budget). Errors name the bank file,
    /// never the copy. Keep it with <see cref="Accept"/> or drop it with <see cref="Reject"/>.
    /// </summary>
    /// <exception cref="PatchCoreException">The bank cannot be loaded.</exception>
    /// <exception cref="IOException">The bank file cannot be copied.</exception>
    public IImageScorer LoadNew(IBankLoader loader, DetectorOptions options)
    {
        if (_candidate is null) return loader.Load(LivePath, options); // the detector reads a NAME.current pointer itself
        Directory.CreateDirectory(Path.GetDirectoryName(_candidate)!);
        try
        {
            // A NAME.current pointer: the version file it names is what is copied (the pointer is one line of text).
            File.Copy(BankVersions.Resolve(LivePath), _candidate, overwrite: true);
        }
        catch (FileNotFoundException e)
        {
            throw new PatchCoreException($"{LivePath}: bank file not found", e);
        }
        try
        {
            return loader.Load(_candidate, options);
        }
        catch (PatchCoreException e)
        {
            throw new PatchCoreException(e.Message.Replace(_candidate, LivePath, StringComparison.Ordinal), e);
        }
    }

    /// <summary>The version of the last <see cref="LoadNew"/> is the product's bank from now on: an unloaded bank comes back as this one.</summary>
    public void Accept()
    {
        if (_candidate is not null) File.Move(_candidate, _accepted!, overwrite: true);
    }

    /// <summary>The version of the last <see cref="LoadNew"/> was refused: its copy goes.</summary>
    public void Reject()
    {
        if (_candidate is null) return;
        try { File.Delete(_candidate); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Loads the accepted version again (after it was unloaded to stay in the budget).</summary>
    public IImageScorer LoadAccepted(IBankLoader loader, DetectorOptions options)
    {
        string path = _accepted ?? LivePath;
        try
        {
            return loader.Load(path, options);
        }
        catch (PatchCoreException e) when (_accepted is not null)
        {
            throw new PatchCoreException($"{e.Message} (the daemon's copy of the accepted bank of {LivePath})", e);
        }
    }
}
