namespace PatchCore.Core.Search;

/// <summary>Rows projected by a <see cref="ProjectedBank"/>: coarse [n, d1] and refined [n, d2] coordinates, with norms.</summary>
internal sealed class ProjectedRows
{
    public static ProjectedRows Empty { get; } = new(0, 0, 0);

    public ProjectedRows(int n, int coarseDim, int refinedDim)
    {
        Coarse = new float[(long)n * coarseDim];
        Refined = new float[(long)n * refinedDim];
        CoarseNorms = new float[n];
        CoarseResiduals = new float[n];
        RefinedResiduals = new float[n];
        CentredNorms = new float[n];
    }

    private ProjectedRows(ProjectedRows other, bool coarse, bool refined)
    {
        Coarse = coarse ? [] : other.Coarse;
        Refined = refined ? [] : other.Refined;
        CoarseNorms = other.CoarseNorms;
        CoarseResiduals = other.CoarseResiduals;
        RefinedResiduals = other.RefinedResiduals;
        CentredNorms = other.CentredNorms;
        MaxCentredNorm = other.MaxCentredNorm;
    }

    /// <summary>Whether these arrays can hold n rows of these widths (the first n are then the rows; the rest is stale).</summary>
    public bool Fits(int n, int coarseDim, int refinedDim) =>
        n <= CentredNorms.Length && Coarse.Length == (long)CentredNorms.Length * coarseDim && Refined.Length == (long)CentredNorms.Length * refinedDim;

    /// <summary>The same rows without their coarse and/or refined coordinates (the norms stay).</summary>
    public ProjectedRows Without(bool coarse, bool refined) => new(this, coarse, refined);

    /// <summary>[n, d1]: the first d1 coordinates, contiguous for the sgemm.</summary>
    public float[] Coarse { get; }
    /// <summary>[n, d2]: the first d2 coordinates.</summary>
    public float[] Refined { get; }
    /// <summary>||p||^2 over the coarse coordinates.</summary>
    public float[] CoarseNorms { get; }
    /// <summary>Length of what the coarse coordinates leave out.</summary>
    public float[] CoarseResiduals { get; }
    /// <summary>Length of what the refined coordinates leave out.</summary>
    public float[] RefinedResiduals { get; }
    /// <summary>||x - m||^2.</summary>
    public float[] CentredNorms { get; }
    public float MaxCentredNorm { get; set; }
}
