using System.Text;
using PatchCore.Core.Evaluation;
using Xunit;

namespace PatchCore.Core.Tests.Evaluation;

public sealed class NpyMapWriterTests
{
    [Fact]
    public void WritesNumPysFormatAndRefusesMapsOfAnotherSize()
    {
        string path = Path.Combine(Path.GetTempPath(), $"pc-maps-{Guid.NewGuid():N}.npy");
        try
        {
            using (var writer = new NpyMapWriter(path, 2))
            {
                writer.Add(0, [1f, 2f, 3f, 4f, 5f, 6f], 3, 2);
                Assert.Throws<InvalidOperationException>(() => writer.Add(0, new float[6], 3, 2));
                Assert.Contains("different sizes", Assert.Throws<PatchCoreException>(() => writer.Add(1, new float[4], 2, 2)).Message);
                writer.Add(1, [7f, 8f, 9f, 10f, 11f, 12f], 3, 2);
            }
            byte[] bytes = File.ReadAllBytes(path);
            Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, bytes[..8]);
            int headerLength = BitConverter.ToUInt16(bytes, 8);
            Assert.Equal(0, (10 + headerLength) % 64);
            string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
            Assert.Contains("'descr': '<f4'", header);
            Assert.Contains("'shape': (2, 2, 3)", header);
            Assert.EndsWith("\n", header);
            var data = new float[12];
            Buffer.BlockCopy(bytes, 10 + headerLength, data, 0, 48);
            Assert.Equal(Enumerable.Range(1, 12).Select(i => (float)i), data);
            Assert.Equal(10 + headerLength + 48, bytes.Length);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
