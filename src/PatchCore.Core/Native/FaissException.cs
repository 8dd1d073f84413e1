namespace PatchCore.Core.Native;

/// <summary>A failure inside FAISS (bad factory string, unreadable index file, untrained index, ...).</summary>
public sealed class FaissException : PatchCoreException
{
    /// <summary>FAISS's own text, as the native shim reported it.</summary>
    public string NativeMessage { get; }

    public FaissException(string context, string nativeMessage)
        : base($"{context}: {nativeMessage}")
    {
        NativeMessage = nativeMessage;
    }

    /// <summary>Throws with the calling thread's native error text when <paramref name="status"/> is non-zero.</summary>
    internal static void ThrowIfFailed(int status, string context)
    {
        if (status != 0)
            throw new FaissException(context, FaissNativeMethods.LastError());
    }
}
