using System.Runtime.InteropServices;

namespace PatchCore.Core.Native;

/// <summary>The few C library calls .NET does not offer.</summary>
internal static partial class LibC
{
    /// <summary>
    /// setenv(3): changes the process environment that native code reads with getenv (on Unix,
    /// Environment.SetEnvironmentVariable changes only .NET's own copy). Returns 0 on success.
    /// </summary>
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SetEnv(string name, string value, int overwrite);
}
