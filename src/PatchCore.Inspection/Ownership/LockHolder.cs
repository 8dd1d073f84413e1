using System.Diagnostics;

namespace PatchCore.Inspection.Ownership;

/// <summary>Who holds a folder lock: written beside the lock file so a daemon that is refused can name the holder.</summary>
internal sealed record LockHolder(int Pid, string Host, DateTimeOffset StartedAt, string Inbox, string Outbox, string CommandLine)
{
    public static LockHolder ThisProcess(InspectionOptions options)
    {
        using var self = Process.GetCurrentProcess();
        return new LockHolder(Environment.ProcessId, Environment.MachineName, self.StartTime.ToUniversalTime(),
            options.InboxPath, options.OutboxPath, string.Join(' ', Environment.GetCommandLineArgs()));
    }

    public override string ToString() =>
        $"pid {Pid} on host {Host} since {StartedAt:yyyy-MM-ddTHH:mm:ssZ}, inbox {Inbox}, outbox {Outbox}";
}
