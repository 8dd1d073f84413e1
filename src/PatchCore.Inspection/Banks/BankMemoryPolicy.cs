namespace PatchCore.Inspection.Banks;

/// <summary>
/// What stays loaded under <c>Inspection:BankMemoryBudgetMb</c>: banks are loaded on first use and the least recently
/// used are unloaded to make room, never one leased to the batch in flight. A bank larger than the whole budget is
/// still loaded when it is needed (its images cannot wait for ever), with every other bank unloaded.
/// </summary>
internal static class BankMemoryPolicy
{
    /// <summary>
    /// The loaded banks to unload, least recently used first, so that <paramref name="incoming"/> more bytes fit in
    /// <paramref name="budget"/>; as many as there are when they cannot all fit.
    /// </summary>
    public static IReadOnlyList<ProductBank> ToUnload(IEnumerable<ProductBank> banks, long incoming, long budget)
    {
        var loaded = banks.Where(b => b.Loaded is not null).ToList();
        long total = loaded.Sum(b => b.CostBytes) + incoming;
        var unload = new List<ProductBank>();
        foreach (var bank in loaded.Where(b => !b.InUse).OrderBy(b => b.LastUsed))
        {
            if (total <= budget) break;
            unload.Add(bank);
            total -= bank.CostBytes;
        }
        return unload;
    }
}
