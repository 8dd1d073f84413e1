using System.Security.Cryptography;

namespace PatchCore.Core;

/// <summary>The lowercase sha256 hex of a file's bytes: the identity of weights files, added images and held-out images.</summary>
internal static class FileSha256
{
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static string Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
