using System.Globalization;
using Spectre.Console;

namespace PatchCore.Bench;

/// <summary>
/// Plain-text output on stdout: section headings, notes and Spectre tables with ASCII borders and no colour, at a
/// fixed width, so the output reads the same in a terminal, a pipe or a log file. Progress goes to stderr.
/// </summary>
internal static class Report
{
    private static readonly IAnsiConsole Out = CreateConsole();

    public static void Heading(string title)
    {
        Console.Out.WriteLine();
        Console.Out.WriteLine(title);
        Console.Out.WriteLine(new string('=', title.Length));
    }

    public static void Line(string text = "") => Console.Out.WriteLine(text);

    /// <summary>Progress and diagnostics, kept off stdout.</summary>
    public static void Progress(string text) => Console.Error.WriteLine($"[bench {DateTime.Now:HH:mm:ss}] {text}");

    public static void Table(IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows)
    {
        var cells = rows.ToArray();
        var table = new Table { Border = TableBorder.Ascii };
        for (int c = 0; c < columns.Count; c++)
        {
            // Columns of numbers are right-aligned, columns holding any text left-aligned.
            bool text = cells.Any(row => c < row.Count && row[c].Length > 0 && char.IsLetter(row[c][0]));
            table.AddColumn(new TableColumn(new Text(columns[c])) { Alignment = text ? Justify.Left : Justify.Right });
        }
        foreach (var row in cells)
            table.AddRow(row.Select(cell => (Spectre.Console.Rendering.IRenderable)new Text(cell)).ToArray());
        Out.Write(table);
        Console.Out.Flush();
    }

    public static string F(double value, int decimals = 2) =>
        double.IsNaN(value) ? "n/a" : value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    public static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>2 -> "2nd", 4 -> "4th" (English ordinal).</summary>
    public static string Ordinal(int n)
    {
        string suffix = (n % 100) is 11 or 12 or 13 ? "th" : (n % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" };
        return n.ToString(CultureInfo.InvariantCulture) + suffix;
    }

    public static string MiB(long bytes) => bytes < 0 ? "n/a" : F(bytes / (1024.0 * 1024.0), 0);

    private static IAnsiConsole CreateConsole()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        console.Profile.Width = 200;
        return console;
    }
}
