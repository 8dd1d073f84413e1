namespace PatchCore.Core.Search;

/// <summary>Argument checks every index shares, so each implementation validates spans the same way before searching.</summary>
internal static class IndexArguments
{
    /// <summary>Rows in a row-major span of <paramref name="dimension"/>-wide vectors.</summary>
    public static long Rows(int length, int dimension, string parameterName)
    {
        if (length % dimension != 0)
            throw new ArgumentException($"{length} values are not a whole number of {dimension}-dimensional vectors.", parameterName);
        return length / dimension;
    }

    /// <summary>Checks a search call and returns the number of queries.</summary>
    public static long CheckSearch(int dimension, ReadOnlySpan<float> queries, int k, Span<float> distances, Span<long> labels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        long nq = Rows(queries.Length, dimension, nameof(queries));
        long expected = nq * k;
        if (distances.Length != expected)
            throw new ArgumentException($"distances holds {distances.Length} values; {nq} queries x k={k} need {expected}.", nameof(distances));
        if (labels.Length != expected)
            throw new ArgumentException($"labels holds {labels.Length} values; {nq} queries x k={k} need {expected}.", nameof(labels));
        return nq;
    }
}
