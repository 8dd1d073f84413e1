using System.IO.MemoryMappedFiles;

namespace PatchCore.Core.Sampling;

/// <summary>A fixed-size block of float16 rows, either in managed memory or in a memory-mapped temp file.</summary>
internal abstract class HalfRowChunk : IDisposable
{
    public abstract Span<Half> Values { get; }
    public abstract bool IsMapped { get; }
    public abstract void Dispose();

    public static HalfRowChunk InMemory(long length) => new ManagedHalfRowChunk(length);

    public static HalfRowChunk Mapped(long length, string directory) => new MappedHalfRowChunk(length, directory);

    private sealed class ManagedHalfRowChunk(long length) : HalfRowChunk
    {
        private readonly Half[] _values = new Half[length];
        public override Span<Half> Values => _values;
        public override bool IsMapped => false;
        public override void Dispose() { }
    }

    private sealed unsafe class MappedHalfRowChunk : HalfRowChunk
    {
        private readonly MemoryMappedFile _file;
        private readonly MemoryMappedViewAccessor _view;
        private readonly byte* _pointer;
        private readonly int _length;
        private bool _disposed;

        public MappedHalfRowChunk(long length, string directory)
        {
            _length = checked((int)length);
            string path = Path.Combine(directory, $"patchcore-candidates-{Guid.NewGuid():N}.f16");
            FileStream stream;
            try
            {
                // DeleteOnClose: the file goes when the mapping is disposed (or the process ends normally).
                stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 4096, FileOptions.DeleteOnClose);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new PatchCoreException($"{path}: cannot create the candidate spill file ({e.Message}).", e);
            }
            try
            {
                long bytes = length * sizeof(ushort);
                _file = MemoryMappedFile.CreateFromFile(stream, null, bytes, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
                _view = _file.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.ReadWrite);
                byte* pointer = null;
                _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
                _pointer = pointer + _view.PointerOffset;
            }
            catch (IOException e)
            {
                _view?.Dispose();
                _file?.Dispose();
                stream.Dispose();
                throw new PatchCoreException($"{path}: cannot map {length * 2} bytes for candidate rows ({e.Message}).", e);
            }
        }

        public override Span<Half> Values
        {
            get
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                return new Span<Half>(_pointer, _length);
            }
        }

        public override bool IsMapped => true;

        public override void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
        }
    }
}
