namespace PatchCore.Inspection.Banks;

/// <summary>
/// One product's place in the <see cref="BankKeeper"/>: its accepted bank (loaded or not), a replacement waiting for
/// the switch, what the bank costs in memory, when it was last used and the last error about it. Changes are made
/// under <see cref="Gate"/>; <see cref="Loaded"/> and <see cref="InUse"/> change only on the worker's thread. health.json
/// reads the fields without the gate (a load on demand holds it for seconds): each is read whole, and a report a moment
/// stale is fine.
/// </summary>
internal sealed class ProductBank(Product product, BankSource source)
{
    public Product Product { get; } = product;
    public string Name => Product.Name;
    public BankSource Source { get; } = source;

    /// <summary>Held while the product's bank file, copies or state change, so a load on demand and a hot reload never cross.</summary>
    public object Gate { get; } = new();

    /// <summary>The accepted bank when it is in memory; null while unloaded.</summary>
    public ActiveBank? Loaded { get; set; }

    /// <summary>A replacement loaded in the background, switched to between batches.</summary>
    public ActiveBank? Pending { get; set; }

    /// <summary>Id of the accepted bank, kept while it is unloaded.</summary>
    public string? BankId { get; set; }

    /// <summary>When the accepted bank was built (null when unknown), kept with <see cref="BankId"/>.</summary>
    public DateTimeOffset? BankCreatedAt { get; set; }

    /// <summary>Estimated bytes of the accepted bank when loaded (<see cref="IBankLoader.MemoryBytes"/>).</summary>
    public long CostBytes { get; set; }

    /// <summary>Stopwatch timestamp of the last lease: the least recently used bank is unloaded first.</summary>
    public long LastUsed { get; set; }

    /// <summary>Leases not yet ended: the pipeline may hold several at once (one batch scoring, the one before it writing).</summary>
    public int Leases { get; set; }

    /// <summary>Leased to a batch: never unloaded or switched until every lease ends.</summary>
    public bool InUse => Leases > 0;

    /// <summary>How many times its bank was loaded (at start, on demand, replacements), for health.json.</summary>
    public int Loads { get; set; }

    /// <summary>Size and mtime of the bank file when last looked at, to see it replaced.</summary>
    public (long Length, DateTime Mtime)? LastSeen { get; set; }

    /// <summary>The last refusal of a new bank for this product (a reference, so health.json reads it whole without the gate).</summary>
    public ErrorNote? LastError { get; set; }

    public sealed record ErrorNote(DateTimeOffset At, string Message);
}
