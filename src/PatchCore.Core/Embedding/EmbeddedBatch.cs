namespace PatchCore.Core.Embedding;

/// <summary>Patch embeddings of one batch, row-major [Count, GridHeight * GridWidth, Dimension].</summary>
internal sealed record EmbeddedBatch(float[] Values, int Count, int GridWidth, int GridHeight, int Dimension)
{
    public int PatchesPerImage => GridWidth * GridHeight;
}
