using System.Diagnostics;
using PatchCore.Bench.Sections;
using PatchCore.Core;

namespace PatchCore.Bench;

/// <summary>The sections in the order they print, and the loop that runs the selected ones.</summary>
internal static class SectionCatalog
{
    private static readonly IBenchSection[] All =
    [
        new BackboneSection(),
        new BuildSection(),
        new ScoringSection(),
        new CoresetSection(),
        new ScalingSection(),
        new UpdateSection(),
        new GeometrySection(),
        new DaemonSection(),
        new CoresetScalingSection(),
    ];

    public static string[] Names { get; } = All.Select(s => s.Name).ToArray();

    /// <summary>Runs the selected sections; a failing or skipped section is reported and the others still run. Exit code 1 if any did not run.</summary>
    public static int RunAll(BenchContext context)
    {
        MachineInfo.Print(context.Settings);
        var total = Stopwatch.StartNew();
        int number = 0, failed = 0;
        foreach (var section in All)
        {
            number++;
            if (!context.Settings.Sections.Contains(section.Name)) continue;
            Report.Heading($"{number}. {section.Title} [--section {section.Name}]");
            if (section.NeedsData && !context.HasData)
            {
                Report.Line($"skipped: no MVTec-layout category at {context.Settings.CategoryDir} (use --data DIR or PATCHCORE_DATA).");
                failed++;
                continue;
            }
            var sw = Stopwatch.StartNew();
            try
            {
                section.Run(context);
            }
            catch (PatchCoreException ex)
            {
                Report.Line($"failed: {ex.Message}");
                failed++;
            }
            Report.Line($"(section took {sw.Elapsed.TotalSeconds:F0} s; load average now {MachineInfo.LoadAverage()})");
        }
        Report.Line();
        Report.Line($"Whole run: {total.Elapsed.TotalMinutes:F1} min. Load average at the end: {MachineInfo.LoadAverage()}.");
        return failed == 0 ? 0 : 1;
    }
}
