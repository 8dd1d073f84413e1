namespace PatchCore.Inspection.Tests.Fakes;

/// <summary>A file opened for appending whose disk fills half way through the next write: half the bytes land, then "No space left on device".</summary>
internal sealed class DiskFullStream(string path) : FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)
{
    // FileStream's span overload ends in the array one for a derived class: failing there covers both.
    public override void Write(byte[] buffer, int offset, int count)
    {
        base.Write(buffer, offset, count / 2);
        base.Flush(flushToDisk: true);
        throw FailurePlan.DiskFull();
    }

    public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);
}
