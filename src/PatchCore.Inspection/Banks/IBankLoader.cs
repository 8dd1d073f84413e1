using PatchCore.Core;

namespace PatchCore.Inspection.Banks;

/// <summary>
/// Turns a bank file into a scorer: the one place the daemon meets the detector (<see cref="DetectorBankLoader"/>),
/// and the seam where tests put a fake scorer that needs neither TorchSharp nor a dataset.
/// </summary>
internal interface IBankLoader
{
    /// <summary>Loads the bank at <paramref name="path"/> with a product's detector settings; the caller owns (disposes) the scorer.</summary>
    /// <exception cref="PatchCoreException">The file is not a usable bank; the message names it and the problem.</exception>
    IImageScorer Load(string path, DetectorOptions options);

    /// <summary>The memory a loaded scorer holds of its own (its bank and search structures, not a shared backbone), estimated, for <c>Inspection:BankMemoryBudgetMb</c>.</summary>
    long MemoryBytes(IImageScorer scorer);

    /// <summary>When the loaded bank was built, for its age in the metrics; null when the scorer does not say.</summary>
    DateTimeOffset? CreatedAt(IImageScorer scorer) => null;
}
