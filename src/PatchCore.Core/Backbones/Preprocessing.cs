namespace PatchCore.Core.Backbones;

/// <summary>
/// How a backbone's weights expect pixels: channel order, a scale applied to 0..255 values,
/// then per-channel mean subtraction and (optionally) division by std, both in the channel order given.
/// </summary>
public sealed record Preprocessing(ChannelOrder Order, float Scale, float[] Mean, float[]? Std)
{
    /// <summary>The packaged CNTK ResNet18: BGR, 0..255, per-channel means (B, G, R), no std.</summary>
    public static Preprocessing PackagedResNet18 { get; } =
        new(ChannelOrder.Bgr, 1f, [103.063f, 115.903f, 123.152f], null);

    /// <summary>torchvision checkpoints: RGB, /255, ImageNet mean and std.</summary>
    public static Preprocessing TorchvisionImageNet { get; } =
        new(ChannelOrder.Rgb, 1f / 255f, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    public bool Equals(Preprocessing? other) =>
        other is not null && Order == other.Order && Scale == other.Scale &&
        Mean.AsSpan().SequenceEqual(other.Mean) &&
        (Std is null ? other.Std is null : other.Std is not null && Std.AsSpan().SequenceEqual(other.Std));

    public override int GetHashCode() => HashCode.Combine(Order, Scale, Mean.Length, Std?.Length);

    public override string ToString() =>
        $"{Order}, scale {Scale:G6}, mean [{string.Join(", ", Mean)}], std {(Std is null ? "none" : "[" + string.Join(", ", Std) + "]")}";
}
