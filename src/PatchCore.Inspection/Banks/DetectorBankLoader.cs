using PatchCore.Core;

namespace PatchCore.Inspection.Banks;

/// <summary>
/// The real loader: a PatchCore detector with the product's settings, on the daemon's one <see cref="SharedBackbones"/>,
/// so products whose banks were built with the same backbone and weights share one network in memory.
/// </summary>
internal sealed class DetectorBankLoader : IBankLoader
{
    /// <summary>
    /// Resident bytes of a loaded bank per byte of its vectors (count x dimension x 4): the vectors themselves and the
    /// search structures built over them (the projected search's principal components, projected rows and norms, the
    /// default on the CPU). Measured with the real daemon on 10 copies of the bottle test bank: its resident memory grew
    /// by 1.7 and 1.9 x the vectors per extra bank loaded (two runs), after the collection the daemon runs once its banks
    /// are loaded (ProductsTests.TheDaemonsMemoryWithOneAndTenProductsIsPrinted prints the figure). Not counted: the
    /// workspace the search keeps once a bank has scored (bounded by the detector's work budget, about 15 MiB per bank
    /// at MaxBatchSize 8 on that test), see the README.
    /// </summary>
    public const double MemoryFactor = 1.8;

    private readonly SharedBackbones _backbones;

    public DetectorBankLoader(SharedBackbones backbones) => _backbones = backbones;

    public IImageScorer Load(string path, DetectorOptions options) => PatchCoreDetector.Load(path, options, _backbones);

    public long MemoryBytes(IImageScorer scorer) => scorer is PatchCoreDetector detector
        ? (long)(detector.Metadata.VectorCount * (double)detector.Metadata.Dimension * sizeof(float) * MemoryFactor)
        : 0;

    public DateTimeOffset? CreatedAt(IImageScorer scorer) => (scorer as PatchCoreDetector)?.Metadata.CreatedUtc;
}
