namespace PatchCore.Bench.Sections;

/// <summary>One numbered table of the benchmark.</summary>
internal interface IBenchSection
{
    /// <summary>The name given to --section.</summary>
    string Name { get; }
    string Title { get; }
    /// <summary>True when the section reads the category's images.</summary>
    bool NeedsData { get; }
    void Run(BenchContext context);
}
