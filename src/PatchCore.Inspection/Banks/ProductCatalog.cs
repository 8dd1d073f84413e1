namespace PatchCore.Inspection.Banks;

/// <summary>
/// The products of this daemon, from its settings: <c>default</c> when <c>Inspection:Bank</c> is set, then every
/// <c>Inspection:Products:&lt;name&gt;</c> in name order. Each product's detector settings are its own where set,
/// else the top-level ones.
/// </summary>
internal sealed class ProductCatalog
{
    private readonly Dictionary<string, Product> _byName = new(StringComparer.Ordinal);

    public ProductCatalog(InspectionOptions options)
    {
        var all = new List<Product>();
        if (!string.IsNullOrWhiteSpace(options.Bank))
            all.Add(new Product(Product.DefaultName, options.BankPath, InspectionHost.DetectorOptionsFrom(options)));
        foreach (var (name, product) in options.Products.OrderBy(p => p.Key, StringComparer.Ordinal))
            all.Add(new Product(name, product.BankPath, InspectionHost.DetectorOptionsFrom(options, product)));
        All = all;
        foreach (var product in all) _byName[product.Name] = product;
    }

    /// <summary>Every product, the default one first.</summary>
    public IReadOnlyList<Product> All { get; }

    public bool HasDefault => _byName.ContainsKey(Product.DefaultName);

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The named products (not the default one), for messages: "a, b", or "none".</summary>
    public string NamedList
    {
        get
        {
            var named = All.Where(p => !p.IsDefault).Select(p => p.Name).ToArray();
            return named.Length == 0 ? "none" : string.Join(", ", named);
        }
    }
}
