using System.Globalization;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Search;

namespace PatchCore.Bench;

/// <summary>
/// The approximate index every section compares with Flat: IVF with nlist = the power of two nearest 2 sqrt(N)
/// (FAISS suggests a few sqrt(N); 16,385 vectors give IVF256), at most 2048 so that training stays within the
/// run time, and nprobe 8 lists searched per query.
/// </summary>
internal sealed record ApproximateIndex(string Factory, int Lists, int Probes)
{
    public const int DefaultProbes = 8;

    public static ApproximateIndex ForBankSize(long vectors, int probes = DefaultProbes)
    {
        int lists = 1 << (int)Math.Clamp(Math.Round(Math.Log2(2 * Math.Sqrt(Math.Max(1, vectors)))), 4, 11);
        return new ApproximateIndex($"IVF{lists},Flat", lists, probes);
    }

    /// <summary>Training vectors used where the bank is larger: 40 per list (FAISS warns below 39).</summary>
    public long TrainingRows(long vectors) => Math.Min(vectors, 40L * Lists);

    public string Label => $"{Factory} nprobe={Probes.ToString(CultureInfo.InvariantCulture)}";

    public void ApplySearchParameters(FaissIndex index) => index.SetSearchParameter("nprobe", Probes);
}
