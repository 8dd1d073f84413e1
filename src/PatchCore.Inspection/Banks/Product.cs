using PatchCore.Core;

namespace PatchCore.Inspection.Banks;

/// <summary>
/// One product the daemon serves: its name (the inbox folder its images arrive in, the outbox folder they go to), its
/// bank file, and the detector settings with its overrides applied. The single-bank settings of old are the product
/// named <see cref="DefaultName"/>, fed by the images directly in the inbox.
/// </summary>
internal sealed record Product(string Name, string BankPath, DetectorOptions Options)
{
    public const string DefaultName = "default";

    public bool IsDefault => Name == DefaultName;

    /// <summary>The key a threshold for this product is set with, for messages.</summary>
    public string SettingKey(string setting) =>
        IsDefault ? $"Inspection:{setting}" : $"Inspection:Products:{Name}:{setting}";

    /// <summary>How messages name it: nothing for the default product (its messages read as they always did), else "Product 'name': ".</summary>
    public string MessagePrefix => IsDefault ? "" : $"Product '{Name}': ";
}
