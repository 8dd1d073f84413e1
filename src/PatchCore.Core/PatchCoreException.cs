namespace PatchCore.Core;

/// <summary>Base of every error this library raises on bad input; the message names the file and the problem.</summary>
public class PatchCoreException : Exception
{
    public PatchCoreException(string message) : base(message) { }
    public PatchCoreException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>An image file that cannot be used: corrupt, truncated, empty, not an image, too large.</summary>
public sealed class ImageLoadException : PatchCoreException
{
    public string FilePath { get; }
    public string Reason { get; }
    /// <summary>True when the file (or its folder) does not exist: it vanished, or was never there.</summary>
    public bool IsMissing => InnerException is FileNotFoundException or DirectoryNotFoundException;

    public ImageLoadException(string filePath, string reason, Exception? inner = null)
        : base($"{filePath}: {reason}", inner ?? new InvalidDataException(reason))
    {
        FilePath = filePath;
        Reason = reason;
    }
}
