using System.Runtime.InteropServices;
using PatchCore.Core.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace PatchCore.Core.Embedding;

/// <summary>
/// Patch embeddings of one batch of <see cref="Count"/> images, row-major [Count, PatchesPerImage, Dimension]. Without
/// tiling an image is one backbone input with a [GridHeight, GridWidth] grid; with <see cref="Tiles"/> it is its tiles,
/// each with that grid, one after another: [Count, Tiles.Count, GridHeight * GridWidth, Dimension].
/// <para>
/// The values stay in the embedder's own CPU tensor and <see cref="Values"/> reads them in place: no managed copy. A
/// batch of eight 224x224 images is 25 MB, and a fresh managed array of that size is first touched page by page; on
/// a virtual machine each 4 KB page fault costs about 15 us, so the copy alone cost about 12 ms per image. Dispose
/// the batch (the tensor is native memory) when its values have been used.
/// </para>
/// </summary>
internal sealed class EmbeddedBatch : IDisposable
{
    private Tensor? _values;

    /// <param name="values">A contiguous float32 CPU tensor [Count, PatchesPerImage, Dimension] that the batch takes over (outside every dispose scope).</param>
    public EmbeddedBatch(Tensor values, int count, int gridWidth, int gridHeight, int dimension, TileLayout? tiles = null)
    {
        if (values.device_type != DeviceType.CPU || values.dtype != ScalarType.Float32 || !values.is_contiguous())
            throw new ArgumentException("Embeddings must be a contiguous float32 CPU tensor.", nameof(values));
        _values = values;
        Count = count;
        GridWidth = gridWidth;
        GridHeight = gridHeight;
        Dimension = dimension;
        Tiles = tiles;
    }

    /// <summary>A batch over a copy of <paramref name="values"/> (tests).</summary>
    internal static EmbeddedBatch Of(float[] values, int count, int gridWidth, int gridHeight, int dimension, TileLayout? tiles = null) =>
        new(tensor(values).DetachFromDisposeScope(), count, gridWidth, gridHeight, dimension, tiles);

    public int Count { get; }
    public int GridWidth { get; }
    public int GridHeight { get; }
    public int Dimension { get; }
    public TileLayout? Tiles { get; }

    /// <summary>The embeddings, row-major [Count * PatchesPerImage, Dimension], read in place; valid until disposal.</summary>
    public ReadOnlySpan<float> Values
    {
        get
        {
            ObjectDisposedException.ThrowIf(_values is null, this);
            return MemoryMarshal.Cast<byte, float>(_values.bytes);
        }
    }

    /// <summary>Backbone inputs per image: its tiles, or 1.</summary>
    public int InputsPerImage => Tiles?.Count ?? 1;
    /// <summary>Patches of one backbone input (one tile when tiled).</summary>
    public int PatchesPerInput => GridWidth * GridHeight;
    public int PatchesPerImage => PatchesPerInput * InputsPerImage;

    /// <summary>
    /// Which of an image's patches [PatchesPerImage] lie in its inspected model-input pixels
    /// (<see cref="RegionOfInterest.InspectedCells"/>, tile by tile when tiled).
    /// </summary>
    public bool[] InspectedCells(bool[] inspectedPixels, int inputWidth, int inputHeight)
    {
        if (Tiles is null) return RegionOfInterest.InspectedCells(inspectedPixels, inputWidth, inputHeight, GridWidth, GridHeight);
        return Tiles.CutMask(inspectedPixels)
            .SelectMany(tile => RegionOfInterest.InspectedCells(tile, Tiles.TileWidth, Tiles.TileHeight, GridWidth, GridHeight))
            .ToArray();
    }

    public void Dispose()
    {
        _values?.Dispose();
        _values = null;
    }
}
