using System.Text.RegularExpressions;

namespace PatchCore.Inspection.Banks;

/// <summary>
/// What a product may be called. A name is a folder in the inbox and in the outbox, so it must be one plain path
/// segment that cannot climb out (<c>..</c>), hide (<c>.x</c>, which the inbox ignores), or take the place of the
/// outbox's own folders. It is lowercase because configuration keys ignore case while Linux folder names do not:
/// <c>Products:Bottle</c> in the file and <c>Products__bottle</c> in the environment are one product, and which
/// spelling would name its folder is not something an operator should have to guess.
/// </summary>
internal static partial class ProductNames
{
    public const int MaxLength = 64;

    /// <summary>
    /// <c>default</c> is the product of <c>Inspection:Bank</c>; the others are the outbox folders of the default
    /// product (ok/, review/, ng/, quarantine/, heatmaps/, feedback/), which a product's folder beside them would mix with.
    /// </summary>
    public static readonly IReadOnlySet<string> Reserved =
        new HashSet<string>(StringComparer.Ordinal) { Product.DefaultName, "ok", "review", "ng", "quarantine", "heatmaps", "feedback" };

    /// <summary>Null when <paramref name="name"/> can name a product; else why not, for a start-up message.</summary>
    public static string? Problem(string name)
    {
        if (name == Product.DefaultName)
            return "'default' is the product of Inspection:Bank (images directly in the inbox): set Inspection:Bank and the top-level thresholds instead";
        if (Reserved.Contains(name))
            return $"'{name}' is reserved: the outbox has a folder of that name for the default product";
        if (name.Length > MaxLength || !Pattern().IsMatch(name))
            return $"'{name}' is not a product name: use 1 to {MaxLength} lowercase letters, digits, '-' and '_', starting with a letter or digit " +
                   "(it names the folders Inbox/<name>/ and Outbox/<name>/, and configuration keys ignore case)";
        return null;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
