using PatchCore.Inspection.Banks;

namespace PatchCore.Inspection.Intake;

/// <summary>
/// Decides what becomes of every entry in the inbox, so that nothing there is silently ignored or blindly followed:
/// <list type="bullet">
/// <item>a file directly in the inbox is the default product's image (quarantined when there is no default product);</item>
/// <item>a file directly in <c>Inbox/&lt;product&gt;/</c> is that product's image;</item>
/// <item>a file anywhere else (a folder that is not a product, a product folder's subfolder, at any depth) is
/// quarantined with a reason naming its folder; folders themselves are left in place, since a writer may still use them;</item>
/// <item>a symbolic link, to a file or a folder, anywhere, is quarantined as the link itself: never opened, never
/// descended into, its target untouched;</item>
/// <item>hidden and temporary names (<see cref="InboxNames"/>), the daemon's own <c>.inspection/</c> among them, are
/// ignored, and so is everything under a hidden folder.</item>
/// </list>
/// A quarantined entry goes to its product's quarantine when it is under a product's folder, else to Outbox/quarantine/.
/// Only lstat-style information is used (<see cref="FileSystemInfo.LinkTarget"/>), and the walk is written by hand
/// because .NET's recursive enumeration descends into links to folders.
/// </summary>
internal sealed class InboxRouter
{
    private readonly string _inbox;
    private readonly ProductCatalog _products;

    public InboxRouter(string inbox, ProductCatalog products)
    {
        _inbox = Path.TrimEndingDirectorySeparator(inbox);
        _products = products;
    }

    /// <summary>
    /// Every entry under the inbox that must get a record, found without following any link. A folder that cannot be
    /// listed is reported to <paramref name="unreadable"/> and skipped (its entries are found on a later walk).
    /// </summary>
    public IEnumerable<InboxEntry> Walk(Action<string, Exception> unreadable)
    {
        var folders = new Stack<(string Path, string[] Segments)>();
        folders.Push((_inbox, []));
        while (folders.Count > 0)
        {
            var (folder, segments) = folders.Pop();
            List<FileSystemInfo> children;
            try
            {
                children = new DirectoryInfo(folder).EnumerateFileSystemInfos().ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                unreadable(folder, e);
                continue;
            }
            foreach (var child in children.OrderBy(c => c.Name, StringComparer.Ordinal))
            {
                if (InboxNames.IsIgnored(child.Name)) continue;
                string[] path = [.. segments, child.Name];
                if (child.LinkTarget is not null)
                    yield return Route(child.FullName, path, isLink: true, child.LinkTarget);
                else if (child is DirectoryInfo)
                    folders.Push((child.FullName, path));
                else
                    yield return Route(child.FullName, path, isLink: false, null);
            }
        }
    }

    /// <summary>
    /// The entry at <paramref name="path"/>, for a watcher event: null when it is ignored, gone, inside a link (the link
    /// itself is the entry), or a folder, in which case <paramref name="rescan"/> asks for a walk to find what it holds.
    /// </summary>
    public InboxEntry? Classify(string path, out bool rescan)
    {
        rescan = false;
        string relative = Path.GetRelativePath(_inbox, path);
        if (relative == "." || relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative)) return null;
        string[] segments = relative.Split(Path.DirectorySeparatorChar);
        if (segments.Any(InboxNames.IsIgnored)) return null;
        string ancestor = _inbox;
        for (int i = 0; i < segments.Length - 1; i++)
        {
            ancestor = Path.Combine(ancestor, segments[i]);
            if (new DirectoryInfo(ancestor).LinkTarget is not null) return null;
        }
        var info = new FileInfo(path);
        if (info.LinkTarget is { } target) return Route(path, segments, isLink: true, target);
        if (Directory.Exists(path))
        {
            rescan = true;
            return null;
        }
        return info.Exists ? Route(path, segments, isLink: false, null) : null;
    }

    /// <summary>What becomes of the entry at <paramref name="segments"/> (relative to the inbox).</summary>
    private InboxEntry Route(string path, string[] segments, bool isLink, string? linkTarget)
    {
        string? product;
        string? refusal = null;
        string top = segments[0];
        if (segments.Length == 1)
        {
            product = _products.HasDefault ? Product.DefaultName : null;
            if (product is null) refusal = NoDefaultProduct();
        }
        else if (ProductNames.Problem(top) is null && _products.Contains(top))
        {
            product = top;
            if (segments.Length > 2) refusal = InProductSubfolder(top, Folder(segments));
        }
        else
        {
            product = null;
            refusal = NotAProduct(top, Folder(segments));
        }
        // A link is refused whatever its place: its own reason comes first, where it lies is in the record's inboxPath.
        if (isLink) refusal = $"a symbolic link (to {linkTarget}): links in the inbox are never followed; the link itself is quarantined and its target left untouched";
        return new InboxEntry(path, product, refusal, isLink);
    }

    private string NoDefaultProduct() =>
        $"directly in the inbox, but there is no default product (Inspection:Bank is not set): images go in Inbox/<product>/ (products: {_products.NamedList})";

    private static string InProductSubfolder(string product, string folder) =>
        $"in the inbox folder '{folder}/': only images directly in Inbox/{product}/ are scored for product '{product}', not those in its subfolders";

    private string NotAProduct(string top, string folder) =>
        $"in the inbox folder '{folder}/': '{top}' is not a product (products: {_products.NamedList}); images go " +
        (_products.HasDefault ? "directly in the inbox (default product) or in Inbox/<product>/" : "in Inbox/<product>/");

    private static string Folder(string[] segments) => string.Join('/', segments[..^1]);
}
