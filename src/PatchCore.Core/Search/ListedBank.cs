using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PatchCore.Core.Search;

/// <summary>
/// The maths of the exact search's layout (<see cref="ProjectedFlatIndex"/>): the bank's projected rows
/// (<see cref="ProjectedBank"/>) split into k-means lists in the coarse projection, each list summarised by a ball
/// (centroid mu, radius R) and the range [rMin, rMax] of its rows' coarse residual lengths. For a query q and any row
/// y of the list, the triangle inequality in the projection and the residual bound of <see cref="ProjectedBank"/> give
///
///     ||q - y||^2  >=  ||p_q - p_y||^2 + (r_q - r_y)^2  >=  max(0, ||p_q - mu|| - R)^2 + dist(r_q, [rMin, rMax])^2,
///
/// so a whole list whose ball bound exceeds a query's k-th best distance is skipped without reading its rows.
///
/// A list's rows are stored in slots, padded to whole panels of <see cref="PanelRows"/> rows; a panel holds its rows'
/// coarse coordinates transposed, [d1, 16], so that one query's 16 coarse bounds are d1 broadcast multiply-adds of
/// Vector512 (<see cref="PanelBounds"/>). Padding slots have member -1 and are masked out
/// (<see cref="ValidLanes"/>). The refined coordinates are kept in slot order too, so that the rows a panel lets
/// through are read from nearby memory.
/// </summary>
internal sealed class ListedBank
{
    /// <summary>Rows per panel: one Vector512 of floats.</summary>
    public const int PanelRows = 16;

    private readonly float[] _panels;            // [P, d1, 16]: coarse coordinates, transposed per panel
    private readonly float[] _slotNorms;         // [P * 16]: ||p_y||^2 over the coarse coordinates (0 in padding)
    private readonly float[] _slotResiduals;     // [P * 16]: coarse residual lengths
    private readonly float[] _slotRefined;       // [P * 16, d2]: refined coordinates
    private readonly float[] _slotRefinedResiduals;  // [P * 16]

    private ListedBank(ProjectedBank projection, CoarseLists lists)
    {
        Projection = projection;
        ProjectedRows bank = projection.Bank;
        int d1 = projection.CoarseDim, d2 = projection.RefinedDim, count = lists.Count;
        Centroids = lists.Centroids;
        CentroidNorms = lists.CentroidNorms;
        PanelStarts = new int[count + 1];
        Rows = new int[count];
        for (int c = 0; c < count; c++)
        {
            Rows[c] = lists.Starts[c + 1] - lists.Starts[c];
            PanelStarts[c + 1] = PanelStarts[c] + (Rows[c] + PanelRows - 1) / PanelRows;
        }
        int slots = PanelStarts[count] * PanelRows;
        _panels = new float[(long)slots * d1];
        _slotNorms = new float[slots];
        _slotResiduals = new float[slots];
        HasRefined = d2 > d1;
        _slotRefined = HasRefined ? new float[(long)slots * d2] : [];
        _slotRefinedResiduals = new float[slots];
        Members = new int[slots];
        Array.Fill(Members, -1);
        Radii = new float[count];
        ResidualMin = new float[count];
        ResidualMax = new float[count];
        for (int c = 0; c < count; c++)
        {
            ReadOnlySpan<float> centroid = Centroids.AsSpan(c * d1, d1);
            double radius = 0;
            float rMin = float.PositiveInfinity, rMax = float.NegativeInfinity;
            for (int i = 0; i < Rows[c]; i++)
            {
                int row = lists.Order[lists.Starts[c] + i];
                int slot = PanelStarts[c] * PanelRows + i;
                int panel = slot / PanelRows, lane = slot % PanelRows;
                ReadOnlySpan<float> coarse = bank.Coarse.AsSpan(row * d1, d1);
                double distance = 0;
                for (int j = 0; j < d1; j++)
                {
                    _panels[((long)panel * d1 + j) * PanelRows + lane] = coarse[j];
                    double diff = (double)coarse[j] - centroid[j];
                    distance += diff * diff;
                }
                radius = Math.Max(radius, Math.Sqrt(distance));
                _slotNorms[slot] = bank.CoarseNorms[row];
                _slotResiduals[slot] = bank.CoarseResiduals[row];
                if (HasRefined) bank.Refined.AsSpan(row * d2, d2).CopyTo(_slotRefined.AsSpan(slot * d2, d2));
                _slotRefinedResiduals[slot] = bank.RefinedResiduals[row];
                Members[slot] = row;
                rMin = MathF.Min(rMin, bank.CoarseResiduals[row]);
                rMax = MathF.Max(rMax, bank.CoarseResiduals[row]);
            }
            // Rounded up a little: the ball must hold every row whatever the float rounding of the query's side.
            Radii[c] = (float)(radius * (1 + 1e-5) + 1e-6);
            (ResidualMin[c], ResidualMax[c]) = (rMin, rMax);
        }
    }

    /// <summary>
    /// Lists over the rows <paramref name="projection"/> holds (<paramref name="lists"/> at most, and at most one per
    /// row); afterwards the projection forgets its copy of the rows (they live here, in slot order).
    /// </summary>
    public static ListedBank Build(ProjectedBank projection, int lists, int seed)
    {
        ProjectedRows bank = projection.Bank;
        int n = bank.CentredNorms.Length;
        var listed = new ListedBank(projection, CoarseLists.Build(bank.Coarse, n, projection.CoarseDim, lists, seed));
        projection.ForgetRows();
        return listed;
    }

    public ProjectedBank Projection { get; }
    /// <summary>Whether there is a refined bound (more refined than coarse components).</summary>
    public bool HasRefined { get; }
    public int ListCount => Rows.Length;
    /// <summary>[L, d1] centroids in the coarse projection, and their squared norms [L].</summary>
    public float[] Centroids { get; }
    public float[] CentroidNorms { get; }
    /// <summary>[L]: radius of each list's ball in the coarse projection.</summary>
    public float[] Radii { get; }
    public float[] ResidualMin { get; }
    public float[] ResidualMax { get; }
    /// <summary>[L + 1]: list c holds panels PanelStarts[c] .. PanelStarts[c + 1].</summary>
    public int[] PanelStarts { get; }
    /// <summary>[L]: rows in each list.</summary>
    public int[] Rows { get; }
    /// <summary>[P * 16]: the bank row in each slot, -1 in padding.</summary>
    public int[] Members { get; }
    /// <summary>Slots of the longest list.</summary>
    public int MaxListSlots
    {
        get
        {
            int max = 0;
            for (int c = 0; c < ListCount; c++) max = Math.Max(max, (PanelStarts[c + 1] - PanelStarts[c]) * PanelRows);
            return max;
        }
    }

    /// <summary>
    /// The ball bound of list c for a query with coarse norm <paramref name="queryNorm"/> and residual
    /// <paramref name="queryResidual"/>, from <paramref name="crossTerm"/> = -2 p_q . mu_c; +infinity for an empty list.
    /// </summary>
    public float BallBound(int c, float crossTerm, float queryNorm, float queryResidual)
    {
        if (Rows[c] == 0) return float.PositiveInfinity;
        float centre = MathF.Sqrt(MathF.Max(0, crossTerm + queryNorm + CentroidNorms[c]));
        float outside = MathF.Max(0, centre - Radii[c]);
        float residual = MathF.Max(0, MathF.Max(ResidualMin[c] - queryResidual, queryResidual - ResidualMax[c]));
        return outside * outside + residual * residual;
    }

    /// <summary>Lanes of <paramref name="panel"/> of list <paramref name="list"/> that hold rows, as a bit mask.</summary>
    public uint ValidLanes(int list, int panel)
    {
        int left = Rows[list] - (panel - PanelStarts[list]) * PanelRows;
        return left >= PanelRows ? 0xFFFFu : (1u << left) - 1;
    }

    /// <summary>
    /// The coarse bounds max(0, ||p_q||^2 + ||p_y||^2 - 2 p_q . p_y) + (r_q - r_y)^2 between one query (coarse
    /// coordinates <paramref name="query"/> [d1]) and the 16 slots of <paramref name="panel"/> (padding lanes are
    /// meaningless: mask them with <see cref="ValidLanes"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> PanelBounds(ReadOnlySpan<float> query, float queryNorm, float queryResidual, int panel)
    {
        int d1 = query.Length;
        ref float q = ref MemoryMarshal.GetReference(query);
        ref float p = ref _panels[(long)panel * d1 * PanelRows];
        // Four independent accumulators hide the multiply-add latency; [d1, 16] . q[d1] -> [16]
        var a0 = Vector512<float>.Zero;
        var a1 = Vector512<float>.Zero;
        var a2 = Vector512<float>.Zero;
        var a3 = Vector512<float>.Zero;
        int j = 0;
        for (; j + 4 <= d1; j += 4)
        {
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref q, j)), Vector512.LoadUnsafe(ref p, (nuint)(j * PanelRows)), a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref q, j + 1)), Vector512.LoadUnsafe(ref p, (nuint)((j + 1) * PanelRows)), a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref q, j + 2)), Vector512.LoadUnsafe(ref p, (nuint)((j + 2) * PanelRows)), a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref q, j + 3)), Vector512.LoadUnsafe(ref p, (nuint)((j + 3) * PanelRows)), a3);
        }
        for (; j < d1; j++)
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref q, j)), Vector512.LoadUnsafe(ref p, (nuint)(j * PanelRows)), a0);
        var dot = (a0 + a1) + (a2 + a3);
        int slot = panel * PanelRows;
        var norms = Vector512.LoadUnsafe(ref _slotNorms[slot]);
        var residual = Vector512.Create(queryResidual) - Vector512.LoadUnsafe(ref _slotResiduals[slot]);
        var projected = Vector512.Max(Vector512.Create(queryNorm) + norms - (dot + dot), Vector512<float>.Zero);
        return Vector512.FusedMultiplyAdd(residual, residual, projected);
    }

    /// <summary>The refined bound of <see cref="ProjectedBank"/> between query row <paramref name="i"/> of <paramref name="queries"/> and a slot.</summary>
    public float RefinedBound(ProjectedRows queries, int i, int slot)
    {
        int d2 = Projection.RefinedDim;
        return ProjectedBank.Bound(queries.Refined.AsSpan(i * d2, d2), queries.RefinedResiduals[i], _slotRefined.AsSpan(slot * d2, d2), _slotRefinedResiduals[slot]);
    }
}
