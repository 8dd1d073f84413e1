namespace PatchCore.Inspection.Publishing;

/// <summary>The topics under <c>Inspection:Mqtt:TopicPrefix</c>.</summary>
internal sealed class MqttTopics
{
    /// <summary>
    /// The last level for a record of no product (a file quarantined from a folder that is not a product, or directly in
    /// an inbox without a default product). No product can be called this: names start with a letter or a digit.
    /// </summary>
    public const string NoProduct = "_none";

    public MqttTopics(string prefix) => Prefix = prefix;

    public string Prefix { get; }

    /// <summary>Retained: the station's state, online (with counts and banks) or offline (the last will, or a clean stop).</summary>
    public string Status => Prefix + "/status";

    /// <summary>Every record of <paramref name="product"/>; product names are valid topic levels (lowercase letters, digits, - and _).</summary>
    public string Results(string? product) => $"{Prefix}/results/{product ?? NoProduct}";

    /// <summary>What subscribes to every result: <c>PREFIX/results/+</c>.</summary>
    public string AllResults => Prefix + "/results/+";
}
