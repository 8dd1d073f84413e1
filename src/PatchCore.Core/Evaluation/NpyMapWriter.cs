using System.Text;

namespace PatchCore.Core.Evaluation;

/// <summary>
/// Anomaly maps of a test split in one NumPy .npy file, float32 [N, H, W] in test order, so they can be compared
/// pixel by pixel with another implementation's maps. Written as they come; every map must have the first one's size.
/// Format: NumPy's version 1.0 header (magic, header length, a Python dict literal padded to 64 bytes), then the data.
/// </summary>
internal sealed class NpyMapWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly int _count;
    private int _written, _width, _height;

    public NpyMapWriter(string path, int count)
    {
        _count = count;
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
    }

    public void Add(int index, float[] map, int width, int height)
    {
        if (index != _written) throw new InvalidOperationException($"Map {index} arrived when map {_written} was expected.");
        if (_written == 0)
        {
            (_width, _height) = (width, height);
            WriteHeader();
        }
        else if ((width, height) != (_width, _height))
        {
            throw new PatchCoreException($"Maps of different sizes ({_width}x{_height}, then {width}x{height}) cannot go into one .npy file: save maps only with a fixed input size.");
        }
        _stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(map.AsSpan()));
        _written++;
    }

    private void WriteHeader()
    {
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({_count}, {_height}, {_width}), }}";
        int total = 10 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string header = dict + new string(' ', padded - total) + "\n";
        _stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']);
        _stream.WriteByte(1);
        _stream.WriteByte(0);
        _stream.Write(BitConverter.GetBytes((ushort)header.Length));
        _stream.Write(Encoding.ASCII.GetBytes(header));
    }

    public void Dispose() => _stream.Dispose();
}
