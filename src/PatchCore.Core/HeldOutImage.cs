namespace PatchCore.Core;

/// <summary>
/// A good image held out of the bank to calibrate its thresholds. A build's and an update's new ones have only a path;
/// an update's inherited ones also bring the sha256 and the score they had against the parent bank, which is kept when
/// the file can no longer be scored (<paramref name="Path"/> null: never recorded).
/// </summary>
internal sealed record HeldOutImage(string Name, string? Path, string? Sha256 = null, double? PreviousScore = null)
{
    public static HeldOutImage At(string path) => new(System.IO.Path.GetFileName(path), path);
}
