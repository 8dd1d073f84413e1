using PatchCore.Core;

namespace PatchCore.Inspection.Banks;

/// <summary>The real loader: a PatchCore detector with the configured device, search, batch and decode settings.</summary>
public sealed class DetectorBankLoader : IBankLoader
{
    private readonly DetectorOptions _options;

    public DetectorBankLoader(DetectorOptions options) => _options = options;

    public IImageScorer Load(string path) => PatchCoreDetector.Load(path, _options);
}
