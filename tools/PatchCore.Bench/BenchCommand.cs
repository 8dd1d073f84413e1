using System.CommandLine;
using PatchCore.Bench.Sections;
using PatchCore.Core;

namespace PatchCore.Bench;

/// <summary>
/// The command line: <c>[--data DIR] [--quick] [--section NAME...]</c>, and the hidden <c>--child KIND JSON</c>
/// that runs one measurement in a fresh process (so that its peak RSS is its own).
/// </summary>
internal static class BenchCommand
{
    public static int Run(string[] args)
    {
        var data = new Option<string?>("--data") { Description = "Folder holding the MVTec-layout categories (default: PATCHCORE_DATA, else ../shared/datasets beside the repository)." };
        var category = new Option<string>("--category") { Description = "Category to measure.", DefaultValueFactory = _ => "bottle" };
        var quick = new Option<bool>("--quick") { Description = "Smaller everything (2 repetitions, a quarter of the training images, half the test images, no 1M bank): a few minutes." };
        var sections = new Option<string[]>("--section")
        {
            Description = $"Sections to run (default: all): {string.Join(", ", SectionCatalog.Names)}.",
            AllowMultipleArgumentsPerToken = true,
        };
        var child = new Option<string[]>("--child") { Hidden = true, AllowMultipleArgumentsPerToken = true, Arity = new ArgumentArity(2, 2) };
        var root = new RootCommand("PatchCore benchmark: prints timing, memory and accuracy tables (no timing is asserted).")
        {
            data, category, quick, sections, child,
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        if (parse.GetValue(child) is { Length: 2 } task)
            return Guard(() => ChildTasks.Run(task[0], task[1]));
        if (parse.Action is not null && parse.Tokens.Any(t => t.Value is "--help" or "-h" or "-?" or "--version"))
            return parse.Invoke();

        return Guard(() =>
        {
            var settings = BenchSettings.Create(parse.GetValue(data), parse.GetValue(category)!, parse.GetValue(quick), parse.GetValue(sections) ?? []);
            using var context = new BenchContext(settings);
            return SectionCatalog.RunAll(context);
        });
    }

    private static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (PatchCoreException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 1;
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }
}
