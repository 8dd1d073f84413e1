using System.Diagnostics;
using PatchCore.Core.Imaging;
using PatchCore.Core.MemoryBank;
using PatchCore.Core.Scoring;
using PatchCore.Core.Search;

namespace PatchCore.Core.Evaluation;

/// <summary>How to evaluate one MVTec-layout category.</summary>
public sealed record EvaluationOptions
{
    /// <summary>How the bank is built (model, coreset, seed, index, scoring); its image list and path are not used.</summary>
    public BuildOptions Bank { get; init; } = new([], "(in memory)");
    /// <summary>Use every n-th training image (sorted by name); 1 = all.</summary>
    public int TrainStride { get; init; } = 1;
    /// <summary>Heatmap overlays per gallery in the report.</summary>
    public int GallerySize { get; init; } = 6;
    /// <summary>How the test images are searched against the bank (default: the fastest exact search).</summary>
    public SearchBackend Search { get; init; } = SearchBackend.Auto;
    /// <summary>Write every test anomaly map to this NumPy .npy file, float32 [N, H, W] in test order; null = none.</summary>
    public string? SaveMapsPath { get; init; }
}
