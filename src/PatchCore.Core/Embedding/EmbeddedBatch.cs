using PatchCore.Core.Imaging;

namespace PatchCore.Core.Embedding;

/// <summary>
/// Patch embeddings of one batch of <see cref="Count"/> images, row-major [Count, PatchesPerImage, Dimension]. Without
/// tiling an image is one backbone input with a [GridHeight, GridWidth] grid; with <see cref="Tiles"/> it is its tiles,
/// each with that grid, one after another: [Count, Tiles.Count, GridHeight * GridWidth, Dimension].
/// </summary>
internal sealed record EmbeddedBatch(float[] Values, int Count, int GridWidth, int GridHeight, int Dimension, TileLayout? Tiles = null)
{
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
}
