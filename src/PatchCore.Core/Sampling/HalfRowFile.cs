using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PatchCore.Core.Sampling;

/// <summary>
/// Float16 values in one temp file, written and read with positional system calls (no mapping): the data sits in
/// the OS page cache, which the kernel may write out or drop, and never counts in the process's resident memory.
/// The file is deleted when this is disposed. Reads are thread-safe; writes are not.
/// </summary>
internal sealed class HalfRowFile : IDisposable
{
    private readonly SafeFileHandle _handle;
    private bool _disposed;

    public HalfRowFile(string directory)
    {
        Path = System.IO.Path.Combine(directory, $"patchcore-candidates-{Guid.NewGuid():N}.f16");
        try
        {
            // DeleteOnClose: the file goes when the handle is disposed (or the process ends normally).
            _handle = File.OpenHandle(Path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PatchCoreException($"{Path}: cannot create the candidate row file ({e.Message}).", e);
        }
    }

    public string Path { get; }

    /// <summary>Values written so far (the file's length in float16 values).</summary>
    public long Length { get; private set; }

    /// <summary>Writes <paramref name="values"/> starting at value <paramref name="offset"/> (at most <see cref="Length"/>: no holes).</summary>
    public void Write(long offset, ReadOnlySpan<Half> values)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || offset > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Writes must continue the {Length} values written so far.");
        try
        {
            RandomAccess.Write(_handle, MemoryMarshal.AsBytes(values), offset * sizeof(ushort));
        }
        catch (IOException e)
        {
            throw new PatchCoreException($"{Path}: cannot write {values.Length * 2L} bytes of candidate rows ({e.Message}).", e);
        }
        Length = Math.Max(Length, offset + values.Length);
    }

    /// <summary>Reads <c>destination.Length</c> values starting at value <paramref name="offset"/>.</summary>
    public void Read(long offset, Span<Half> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || offset + destination.Length > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Values {offset}..{offset + destination.Length - 1} are outside the {Length} written.");
        var bytes = MemoryMarshal.AsBytes(destination);
        long position = offset * sizeof(ushort);
        while (bytes.Length > 0)
        {
            int read = RandomAccess.Read(_handle, bytes, position);
            if (read <= 0)
                throw new PatchCoreException($"{Path}: the candidate row file ended at byte {position}, {bytes.Length} bytes early.");
            bytes = bytes[read..];
            position += read;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _handle.Dispose();
    }
}
