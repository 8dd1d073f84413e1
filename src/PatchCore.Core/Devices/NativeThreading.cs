using System.Runtime.CompilerServices;
using PatchCore.Core.Native;

namespace PatchCore.Core.Devices;

/// <summary>
/// Process-wide native threading defaults, set before libtorch or FAISS load. Both bring an OpenMP runtime (libtorch
/// its own copy of libgomp, the FAISS shim the system's); by default each keeps its idle threads spinning after a
/// parallel region, so the two pools (and any other load on a 2-core plant PC) steal each other's cores. The benchmark
/// measured backbone time at batch 1 under load going from about 840 ms to about 70 ms per image with
/// OMP_WAIT_POLICY=PASSIVE (idle threads sleep). A value the user set in the environment is left alone.
/// </summary>
internal static class NativeThreading
{
    // A library module initializer on purpose: it has to run before any code of this assembly touches torch or FAISS.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void SetDefaults()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null) return;
        // Environment.SetEnvironmentVariable changes only .NET's copy on Unix; native getenv reads libc's environ.
        try { _ = LibC.SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0); }
        catch (DllNotFoundException) { }
        catch (EntryPointNotFoundException) { }
    }
}
