using PatchCore.Core.Devices;
using PatchCore.Core.Imaging;
using PatchCore.Core.Scoring;
using PatchCore.Core.Search;

namespace PatchCore.Core;

/// <summary>How a loaded bank scores images.</summary>
public sealed record DetectorOptions(DeviceKind Device = DeviceKind.Auto, int? BatchSize = null, long MaxPixels = ImageDecoder.DefaultMaxPixels)
{
    /// <summary>The torchvision checkpoint the bank was built with, when it was not the packaged ResNet18.</summary>
    public string? WeightsPath { get; init; }
    public SearchBackend Search { get; init; } = SearchBackend.Auto;
    public ScoringOptions Scoring { get; init; } = new();
    /// <summary>Thresholds that replace the bank's calibrated ones (each one that is set); null = the bank's.</summary>
    public Thresholds? Thresholds { get; init; }
    /// <summary>False turns the review band off: every part is ok or ng.</summary>
    public bool ReviewBand { get; init; } = true;
    /// <summary>How defect regions are reported (minimum area, millimetres).</summary>
    public RegionOptions Regions { get; init; } = new();
    /// <summary>Bytes one backbone batch or search chunk may use; null = from the device (free RAM or GPU memory).</summary>
    public long? WorkBudgetBytes { get; init; }
    /// <summary>Images decoded at once; null = one per processor.</summary>
    public int? DecodeParallelism { get; init; }
    /// <summary>FAISS search-time parameters for approximate indexes (nprobe, efSearch); null = FAISS's defaults.</summary>
    public IReadOnlyDictionary<string, double>? SearchParameters { get; init; }
    /// <summary>Settings of the exact projected search (<see cref="SearchBackend.Projected"/>); null = its default.</summary>
    internal ProjectedSearchOptions? Projected { get; init; }
    /// <summary>Settings of the approximate projected search (<see cref="SearchBackend.ProjectedApproximate"/>); null = its default.</summary>
    internal ProjectedIvfOptions? ProjectedApproximate { get; init; }
}
