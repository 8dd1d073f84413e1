using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PatchCore.Core.Sampling;

/// <summary>
/// Values of type <typeparamref name="T"/> (the candidate store's float16 rows, or its float32 projections beyond
/// their memory budget) in one temp file, written and read with positional system calls (no mapping): the data sits
/// in the OS page cache, which the kernel may write out or drop, and never counts in the process's resident memory.
/// The file is deleted when this is disposed. Reads are thread-safe; writes are not.
/// </summary>
internal sealed class TempRowFile<T> : IDisposable where T : unmanaged
{
    private readonly SafeFileHandle _handle;
    private readonly string _what;
    private bool _disposed;

    /// <param name="directory">Folder of the file.</param>
    /// <param name="what">What the file holds, for file names and errors (e.g. "candidate rows").</param>
    /// <param name="extension">File name extension without the dot.</param>
    public TempRowFile(string directory, string what, string extension)
    {
        _what = what;
        Path = System.IO.Path.Combine(directory, $"patchcore-{what.Replace(' ', '-')}-{Guid.NewGuid():N}.{extension}");
        try
        {
            // DeleteOnClose: the file goes when the handle is disposed (or the process ends normally).
            _handle = File.OpenHandle(Path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PatchCoreException($"{Path}: cannot create the {what} file ({e.Message}).", e);
        }
    }

    public string Path { get; }

    /// <summary>Values written so far (the file's length in values).</summary>
    public long Length { get; private set; }

    /// <summary>Writes <paramref name="values"/> starting at value <paramref name="offset"/> (at most <see cref="Length"/>: no holes).</summary>
    public void Write(long offset, ReadOnlySpan<T> values)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || offset > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Writes must continue the {Length} values written so far.");
        try
        {
            RandomAccess.Write(_handle, MemoryMarshal.AsBytes(values), offset * Unsafe.SizeOf<T>());
        }
        catch (IOException e)
        {
            throw new PatchCoreException($"{Path}: cannot write {(long)values.Length * Unsafe.SizeOf<T>()} bytes of {_what} ({e.Message}).", e);
        }
        Length = Math.Max(Length, offset + values.Length);
    }

    /// <summary>Reads <c>destination.Length</c> values starting at value <paramref name="offset"/>.</summary>
    public void Read(long offset, Span<T> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || offset + destination.Length > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Values {offset}..{offset + destination.Length - 1} are outside the {Length} written.");
        var bytes = MemoryMarshal.AsBytes(destination);
        long position = offset * Unsafe.SizeOf<T>();
        while (bytes.Length > 0)
        {
            int read = RandomAccess.Read(_handle, bytes, position);
            if (read <= 0)
                throw new PatchCoreException($"{Path}: the {_what} file ended at byte {position}, {bytes.Length} bytes early.");
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
