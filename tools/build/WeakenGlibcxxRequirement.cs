// MSBuild task (compiled by RoslynCodeTaskFactory, see Directory.Build.targets).
//
// TorchSharp 0.107.0's libLibTorchSharp.so was linked with GCC 13 and asks for GLIBCXX_3.4.32, which
// Debian 12's libstdc++ lacks. The only symbol behind that version is the iostream start-up marker
// std::ios_base_library_init(), which nothing calls through. Marking the version requirement
// VER_FLG_WEAK (0x2) in .gnu.version_r lets the dynamic loader accept the library.
// Written by hand because no served library edits ELF version records; it touches only copies in
// build/publish output folders, never the NuGet cache, and only where the host libstdc++ lacks the version.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class WeakenGlibcxxRequirement : Task
{
    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    public string VersionName { get; set; } = "GLIBCXX_3.4.32";
    public string HostLibStdCxx { get; set; } = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";

    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    public override bool Execute()
    {
        if (!File.Exists(HostLibStdCxx))
        {
            Log.LogMessage(MessageImportance.Low, $"{HostLibStdCxx} not found; not patching.");
            return true;
        }
        if (Contains(File.ReadAllBytes(HostLibStdCxx), Encoding.ASCII.GetBytes(VersionName + "\0")))
        {
            Log.LogMessage(MessageImportance.Low, $"Host libstdc++ has {VersionName}; nothing to patch.");
            return true;
        }
        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            if (!File.Exists(path)) continue;
            try
            {
                int changed = Patch(path);
                Log.LogMessage(MessageImportance.Normal, changed > 0
                    ? $"Marked {VersionName} weak in {path}."
                    : $"{path}: {VersionName} already weak or not required.");
            }
            catch (Exception ex)
            {
                Log.LogError($"Could not patch {path}: {ex.Message}");
                return false;
            }
        }
        return !Log.HasLoggedErrors;
    }

    private int Patch(string path)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("only little-endian ELF64 is handled");

        ulong shoff = BitConverter.ToUInt64(elf, 0x28);
        ushort shentsize = BitConverter.ToUInt16(elf, 0x3A);
        ushort shnum = BitConverter.ToUInt16(elf, 0x3C);
        int changed = 0;
        for (int s = 0; s < shnum; s++)
        {
            int sh = checked((int)shoff + s * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;
            int secOffset = checked((int)BitConverter.ToUInt64(elf, sh + 0x18));
            uint link = BitConverter.ToUInt32(elf, sh + 0x28);   // index of the string table (.dynstr)
            uint count = BitConverter.ToUInt32(elf, sh + 0x2C);  // number of Verneed entries
            int strSh = checked((int)shoff + (int)link * shentsize);
            int strOffset = checked((int)BitConverter.ToUInt64(elf, strSh + 0x18));

            int vn = secOffset;
            for (uint i = 0; i < count; i++)
            {
                ushort auxCount = BitConverter.ToUInt16(elf, vn + 2);
                int aux = vn + (int)BitConverter.ToUInt32(elf, vn + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    // Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32
                    ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                    int name = strOffset + (int)BitConverter.ToUInt32(elf, aux + 8);
                    if (ReadCString(elf, name) == VersionName && (flags & VerFlgWeak) == 0)
                    {
                        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, aux + 4);
                        changed++;
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                int next = (int)BitConverter.ToUInt32(elf, vn + 12);
                if (next == 0) break;
                vn += next;
            }
        }
        if (changed > 0)
        {
            // Write a temporary file first so a build never leaves a half-written library behind.
            string tmp = path + ".patching";
            File.WriteAllBytes(tmp, elf);
            if (File.Exists(path)) File.Delete(path);
            File.Move(tmp, path);
        }
        return changed;
    }

    private static string ReadCString(byte[] data, int offset)
    {
        int end = offset;
        while (end < data.Length && data[end] != 0) end++;
        return Encoding.ASCII.GetString(data, offset, end - offset);
    }

    private static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }
}
