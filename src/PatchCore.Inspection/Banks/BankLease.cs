namespace PatchCore.Inspection.Banks;

/// <summary>A product's bank lent to one batch (<see cref="BankKeeper.Lease"/>): it cannot be unloaded until this is disposed.</summary>
internal sealed class BankLease : IDisposable
{
    private Action? _release;

    internal BankLease(ActiveBank bank, Action release)
    {
        Bank = bank;
        _release = release;
    }

    public ActiveBank Bank { get; }

    public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
}
