using PatchCore.Core;

namespace PatchCore.Inspection.Banks;

/// <summary>
/// The real loader: a PatchCore detector with the product's settings, on the daemon's one <see cref="SharedBackbones"/>,
/// so products whose banks were built with the same backbone and weights share one network in memory.
/// </summary>
public sealed class DetectorBankLoader : IBankLoader
{
    /// <summary>
    /// Resident bytes of a loaded bank per byte of its vectors (count x dimension x 4): the vectors themselves, the
    /// search structures built over them (the projected search's principal components and projected rows, the default
    /// on the CPU) and what the loader leaves to the allocator. Measured on the bottle test banks with the real daemon,
    /// from the RSS growth per extra bank of the same size (ProductsTests' 1 vs 10 products figure; see the README).
    /// </summary>
    public const double MemoryFactor = 1.6;

    private readonly SharedBackbones _backbones;

    public DetectorBankLoader(SharedBackbones backbones) => _backbones = backbones;

    public IImageScorer Load(string path, DetectorOptions options) => PatchCoreDetector.Load(path, options, _backbones);

    public long MemoryBytes(IImageScorer scorer) => scorer is PatchCoreDetector detector
        ? (long)(detector.Metadata.VectorCount * (double)detector.Metadata.Dimension * sizeof(float) * MemoryFactor)
        : 0;
}
