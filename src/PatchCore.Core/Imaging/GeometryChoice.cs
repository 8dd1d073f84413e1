namespace PatchCore.Core.Imaging;

/// <summary>What <see cref="AutoGeometry.Choose"/> picked and why; <see cref="Warning"/> when the images differ a lot in aspect.</summary>
public sealed record GeometryChoice(ImageGeometry Geometry, string Description, string? Warning)
{
    public override string ToString() => Warning is null ? $"geometry auto: {Description}" : $"geometry auto: {Description}; {Warning}";
}
