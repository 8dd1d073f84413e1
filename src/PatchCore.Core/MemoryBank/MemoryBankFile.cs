using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PatchCore.Core.MemoryBank;

/// <summary>
/// The versioned bank file:
/// <code>
/// magic "PCBANK\x1A\n" (8) | format version u32 | metadata length u32 | metadata (UTF-8 JSON)
/// | vector float count u64 | vectors (float32 LE) | index length u64 | FAISS index bytes | XxHash128 of all before (16)
/// </code>
/// The metadata is plain JSON bound to fixed record types (System.Text.Json), never a type-instantiating
/// deserialiser. Writes go to a temporary file that is flushed and renamed, so readers never see half a bank.
/// </summary>
public static class MemoryBankFile
{
    public const int FormatVersion = 1;
    private static readonly byte[] Magic = "PCBANK\u001A\n"u8.ToArray();
    private const int MaxMetadataBytes = 256 << 20;

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes a bank file and returns its id (the hex checksum).</summary>
    /// <param name="overwrite">False: refuse when <paramref name="path"/> exists, even if another writer creates it meanwhile (versions are never rewritten).</param>
    public static string Write(string path, BankMetadata metadata, ReadOnlySpan<float> vectors, ReadOnlySpan<byte> indexBytes, bool overwrite = true)
    {
        if (vectors.Length != metadata.VectorCount * metadata.Dimension)
            throw new ArgumentException($"Metadata says {metadata.VectorCount} x {metadata.Dimension} vectors, {vectors.Length} floats given.");
        string full = System.IO.Path.GetFullPath(path);
        string? dir = System.IO.Path.GetDirectoryName(full);
        if (dir is not null) Directory.CreateDirectory(dir);
        string tmp = full + $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        var hash = new XxHash128();
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                void Put(ReadOnlySpan<byte> bytes) { hash.Append(bytes); fs.Write(bytes); }
                Span<byte> scratch = stackalloc byte[8];
                byte[] meta = JsonSerializer.SerializeToUtf8Bytes(metadata, Json);
                Put(Magic);
                BinaryPrimitives.WriteUInt32LittleEndian(scratch, FormatVersion); Put(scratch[..4]);
                BinaryPrimitives.WriteUInt32LittleEndian(scratch, (uint)meta.Length); Put(scratch[..4]);
                Put(meta);
                BinaryPrimitives.WriteUInt64LittleEndian(scratch, (ulong)vectors.Length); Put(scratch);
                Put(MemoryMarshal.AsBytes(vectors));
                BinaryPrimitives.WriteUInt64LittleEndian(scratch, (ulong)indexBytes.Length); Put(scratch);
                Put(indexBytes);
                byte[] digest = hash.GetCurrentHash();
                fs.Write(digest);
                fs.Flush(flushToDisk: true);
            }
            if (overwrite)
            {
                File.Move(tmp, full, overwrite: true);
            }
            else
            {
                // link(2) semantics through File.Move without overwrite: fails if the name exists, atomically.
                if (File.Exists(full)) throw new BankFileException(full, "already exists: a bank version is never overwritten");
                File.Move(tmp, full, overwrite: false);
            }
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    public static MemoryBankContent Read(string path)
    {
        FileStream fs;
        try
        {
            fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 20);
        }
        catch (FileNotFoundException) { throw new BankFileException(path, "bank file not found"); }
        catch (DirectoryNotFoundException) { throw new BankFileException(path, "bank file's folder not found"); }
        catch (UnauthorizedAccessException ex) { throw new BankFileException(path, "permission denied", ex); }
        catch (IOException ex) { throw new BankFileException(path, $"cannot open bank file: {ex.Message}", ex); }

        using (fs)
        {
            long length = fs.Length;
            var hash = new XxHash128();
            long position = 0;
            void Take(Span<byte> buffer, string what)
            {
                int read = fs.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                if (read < buffer.Length)
                    throw new BankFileException(path, $"file is truncated: it ends inside the {what} (at byte {position + read:N0} of {length:N0})");
                hash.Append(buffer);
                position += buffer.Length;
            }

            var magic = new byte[Magic.Length];
            if (length < Magic.Length + 8)
                throw new BankFileException(path, length == 0 ? "file is empty (0 bytes)" : "not a PatchCore bank file (too short to hold a header)");
            Take(magic, "magic number");
            if (!magic.AsSpan().SequenceEqual(Magic))
                throw new BankFileException(path, "not a PatchCore bank file (foreign file: the magic number does not match)");
            Span<byte> four = stackalloc byte[4];
            Span<byte> eight = stackalloc byte[8];
            Take(four, "format version");
            uint version = BinaryPrimitives.ReadUInt32LittleEndian(four);
            if (version != FormatVersion)
                throw new BankFileException(path, $"bank format version {version} is not supported: this build reads version {FormatVersion}; rebuild the bank with this version");
            Take(four, "metadata length");
            uint metaLength = BinaryPrimitives.ReadUInt32LittleEndian(four);
            if (metaLength == 0 || metaLength > MaxMetadataBytes || metaLength > length - position)
                throw new BankFileException(path, $"file is truncated or corrupted: metadata length {metaLength:N0} does not fit the file ({length:N0} bytes)");
            var meta = new byte[metaLength];
            Take(meta, "metadata");
            Take(eight, "vector count");
            ulong floatCount = BinaryPrimitives.ReadUInt64LittleEndian(eight);
            if (floatCount > (ulong)Array.MaxLength || floatCount * 4 > (ulong)(length - position))
                throw new BankFileException(path, $"file is truncated or corrupted: {floatCount:N0} vector values do not fit the remaining {length - position:N0} bytes");
            var vectors = new float[floatCount];
            Take(MemoryMarshal.AsBytes(vectors.AsSpan()), "bank vectors");
            Take(eight, "index length");
            ulong indexLength = BinaryPrimitives.ReadUInt64LittleEndian(eight);
            if (indexLength > (ulong)Array.MaxLength || indexLength > (ulong)(length - position))
                throw new BankFileException(path, $"file is truncated or corrupted: an index of {indexLength:N0} bytes does not fit the remaining {length - position:N0} bytes");
            var index = new byte[indexLength];
            Take(index, "FAISS index");
            byte[] expected = hash.GetCurrentHash();
            var stored = new byte[16];
            int got = fs.ReadAtLeast(stored, 16, throwOnEndOfStream: false);
            if (got < 16)
                throw new BankFileException(path, "file is truncated: the checksum at its end is missing");
            if (fs.Position != length)
                throw new BankFileException(path, $"file has {length - fs.Position:N0} unexpected bytes after its checksum");
            if (!stored.AsSpan().SequenceEqual(expected))
                throw new BankFileException(path, "checksum mismatch: the file is corrupted (its content does not match the XxHash128 stored at its end)");

            BankMetadata metadata;
            try
            {
                metadata = JsonSerializer.Deserialize<BankMetadata>(meta, Json)
                           ?? throw new JsonException("metadata is null");
            }
            catch (JsonException ex)
            {
                throw new BankFileException(path, $"metadata is not valid: {ex.Message}", ex);
            }
            if ((ulong)metadata.VectorCount * (ulong)metadata.Dimension != floatCount)
                throw new BankFileException(path, $"metadata says {metadata.VectorCount} x {metadata.Dimension} vectors but the file holds {floatCount:N0} values");
            return new MemoryBankContent(metadata, vectors, index) { Checksum = Convert.ToHexStringLower(expected) };
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
