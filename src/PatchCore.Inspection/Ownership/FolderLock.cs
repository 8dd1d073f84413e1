using System.Text.Json;
using PatchCore.Core;
using PatchCore.Inspection.Outbox;

namespace PatchCore.Inspection.Ownership;

/// <summary>
/// One daemon's exclusive claim on a folder (its inbox or its outbox), held for as long as this object lives and
/// released by the kernel if the process dies (kill -9 included): a lock file in the folder's <c>.inspection/</c>
/// opened with <see cref="FileShare.None"/>, which .NET takes as <c>flock(LOCK_EX | LOCK_NB)</c> on Linux. flock
/// belongs to the open file, so it also keeps out a second host in the same process. Who holds it is written to a
/// side file (the lock file itself cannot be opened by anyone else, not even to read).
/// </summary>
internal sealed class FolderLock : IDisposable
{
    // EWOULDBLOCK on Linux: .NET reports a held flock as an IOException whose HResult is the errno.
    private const int WouldBlock = 11;

    private readonly FileStream _lock;

    private FolderLock(FileStream held, string folder, string lockFile)
    {
        _lock = held;
        Folder = folder;
        LockFile = lockFile;
    }

    public string Folder { get; }
    public string LockFile { get; }

    /// <param name="role">"Inbox" or "Outbox", for the messages.</param>
    /// <param name="stateFolder">The folder's .inspection/, where the lock and holder files live.</param>
    /// <exception cref="PatchCoreException">Another daemon holds the folder (the message names it), or the lock cannot be taken.</exception>
    public static FolderLock Acquire(string role, string folder, string stateFolder, string name, LockHolder me)
    {
        string lockFile = Path.Combine(stateFolder, name + ".lock");
        string holderFile = HolderFile(lockFile);
        FileStream held;
        try
        {
            Directory.CreateDirectory(stateFolder);
            held = Open(lockFile);
        }
        catch (IOException e) when (e.HResult == WouldBlock)
        {
            throw new PatchCoreException($"{role} {folder} is owned by another inspection daemon ({DescribeHolder(holderFile)}; lock {lockFile}).");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PatchCoreException($"{role} {folder}: cannot take the lock {lockFile}: {e.Message}");
        }

        try
        {
            RefuseIfLockingIsOff(lockFile);
            Durable.WriteAllBytes(holderFile, JsonSerializer.SerializeToUtf8Bytes(me, RecordJson.Default.LockHolder));
        }
        catch
        {
            held.Dispose();
            throw;
        }
        return new FolderLock(held, folder, lockFile);
    }

    public static string HolderFile(string lockFile) => lockFile + ".holder.json";

    private static FileStream Open(string lockFile) =>
        new(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

    /// <summary>
    /// .NET skips the flock when System.IO.DisableFileLocking (DOTNET_SYSTEM_IO_DISABLEFILELOCKING) is set; then the
    /// lock would hold nothing. A second open of the held file must fail: if it succeeds, refuse to start.
    /// </summary>
    private static void RefuseIfLockingIsOff(string lockFile)
    {
        try
        {
            using var second = Open(lockFile);
        }
        catch (IOException e) when (e.HResult == WouldBlock)
        {
            return;
        }
        throw new PatchCoreException($"{lockFile}: file locking is disabled in this process (System.IO.DisableFileLocking or " +
            "DOTNET_SYSTEM_IO_DISABLEFILELOCKING), so the daemon cannot make sure it is the only one on its folders; unset it.");
    }

    private static string DescribeHolder(string holderFile)
    {
        try
        {
            var holder = JsonSerializer.Deserialize(File.ReadAllBytes(holderFile), RecordJson.Default.LockHolder);
            if (holder is not null) return holder.ToString();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
        }
        return $"holder unknown: {holderFile} cannot be read";
    }

    public void Dispose() => _lock.Dispose();
}
