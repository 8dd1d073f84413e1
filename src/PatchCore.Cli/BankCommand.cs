using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using PatchCore.Core;
using PatchCore.Core.MemoryBank;

namespace PatchCore.Cli;

/// <summary><c>patchcore bank list NAME</c> and <c>patchcore bank rollback NAME [--to vN]</c>: the versions of a bank (<see cref="BankVersions"/>).</summary>
internal static class BankCommand
{
    private const string NameHelp = "The bank's versions: DIR/NAME (for DIR/NAME.vN.pcbank and DIR/NAME.current), the pointer or any version file.";

    public static Command Create()
    {
        var cmd = new Command("bank", "Versions of a bank: NAME.vN.pcbank files beside a NAME.current pointer (written by 'update --version').") { List(), Rollback() };
        return cmd;
    }

    private static Command List()
    {
        var name = new Argument<string>("NAME") { Description = NameHelp };
        var cmd = new Command("list", "List a bank's versions: parents, vector counts, file sizes, thresholds, dates, and which one is current. " + ExitCodes.HelpText) { name };
        cmd.SetAction(r => Program.Guard(() =>
        {
            string series = BankVersions.SeriesOf(r.GetValue(name)!);
            var versions = BankVersions.List(series);
            if (versions.Count == 0)
                throw new PatchCoreException($"{series}: no versions found (looked for {Path.GetFileName(series)}.vN{BankVersions.BankSuffix} in {Path.GetDirectoryName(series)}).");
            var byId = versions.Where(v => v.Id is not null).ToDictionary(v => v.Id!, v => v.Version);
            var table = new Table().Title(Markup.Escape($"{Path.GetFileName(series)} in {Path.GetDirectoryName(series)}"));
            table.AddColumns("", "version", "id", "parent", "vectors", "size MiB", "ng", "review", "pixel", "created (UTC)", "images added");
            foreach (var v in versions)
            {
                string mark = v.IsCurrent ? "current" : "";
                string size = (v.FileBytes / (1024.0 * 1024.0)).ToString("0.0", CultureInfo.InvariantCulture);
                if (v.Metadata is not { } m)
                {
                    table.AddRow(mark, $"v{v.Version}", "-", "-", "-", size, "-", "-", "-", "-", Markup.Escape($"unusable: {v.Problem}"));
                    continue;
                }
                string parent = m.ParentId is not string p ? "(built)" : byId.TryGetValue(p, out int pv) ? $"v{pv} {Short(p)}" : Short(p);
                var c = m.Calibration;
                string added = m.Updates.Count == 0 ? $"{m.TrainingImageCount} (build)" : $"{m.Updates[^1].Added.Count} ({m.Updates[^1].VectorsAdded:N0} vectors)";
                table.AddRow(new[] { mark, $"v{v.Version}", Short(v.Id!), parent, m.VectorCount.ToString("N0", CultureInfo.InvariantCulture), size,
                    F(c.Threshold), F(c.ReviewThreshold), F(c.PixelThreshold), m.CreatedUtc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), added }
                    .Select(Markup.Escape).ToArray());
            }
            if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 180);
            AnsiConsole.Write(table);
            if (versions.All(v => !v.IsCurrent))
                ConsoleUi.Info($"No version is current: {BankVersions.PointerPath(series)} is missing or names no version (patchcore bank rollback NAME --to vN sets it).");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static Command Rollback()
    {
        var name = new Argument<string>("NAME") { Description = NameHelp };
        var to = new Option<string?>("--to") { Description = "The version to make current (v3 or 3); default: the current version's parent." };
        var cmd = new Command("rollback", "Make an earlier version current again by moving the NAME.current pointer (atomically); refuses a missing or corrupt target. " + ExitCodes.HelpText) { name, to };
        cmd.SetAction(r => Program.Guard(() =>
        {
            string series = BankVersions.SeriesOf(r.GetValue(name)!);
            int? before = BankVersions.Current(series);
            var now = BankVersions.Rollback(series, r.GetValue(to) is string text ? ParseVersion(text) : null);
            string from = before is int b ? $"v{b}" : "no version";
            ConsoleUi.Info($"{BankVersions.PointerPath(series)}: {from} -> v{now.Version} ({now.Path}, id {now.Id})");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static int ParseVersion(string text)
    {
        string t = text.Trim();
        if (t.StartsWith('v') || t.StartsWith('V')) t = t[1..];
        if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= 1) return v;
        throw new PatchCoreException($"Invalid --to '{text}': expected a version such as v3 or 3.");
    }

    private static string Short(string id) => id[..Math.Min(12, id.Length)];

    private static string F(double? v) => v is double d ? d.ToString("0.####", CultureInfo.InvariantCulture) : "-";
}
