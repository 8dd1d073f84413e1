using System.Collections.Concurrent;

namespace PatchCore.Core.Backbones;

/// <summary>
/// The identity of a weights file: the lowercase sha256 hex of its bytes. Bank files store it so that a bank
/// built with other weights is refused. Hashes are cached per full path, last write time and length, so a
/// changed file is hashed again and an unchanged one only once per process.
/// </summary>
internal static class WeightsIdentity
{
    private static readonly ConcurrentDictionary<(string Path, DateTime WrittenUtc, long Length), string> Cache = new();

    public static string Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var info = new FileInfo(Path.GetFullPath(path));
        if (!info.Exists)
            throw new PatchCoreException($"{path}: weights file not found.");
        var key = (info.FullName, info.LastWriteTimeUtc, info.Length);
        return Cache.GetOrAdd(key, static k => Hash(k.Path));
    }

    private static string Hash(string fullPath)
    {
        try
        {
            return FileSha256.Of(fullPath);
        }
        catch (IOException e)
        {
            throw new PatchCoreException($"{fullPath}: cannot read the weights file to hash it: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new PatchCoreException($"{fullPath}: cannot read the weights file to hash it: {e.Message}", e);
        }
    }
}
