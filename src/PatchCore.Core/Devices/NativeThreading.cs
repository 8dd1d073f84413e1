using System.Runtime.CompilerServices;
using PatchCore.Core.Native;

namespace PatchCore.Core.Devices;

/// <summary>
/// Process-wide native threading defaults, set before libtorch, FAISS or OpenBLAS load. Each brings a thread pool
/// whose idle threads keep spinning after a parallel region by default, so the pools (and any other load on a 2-core
/// plant PC) steal each other's cores:
/// <list type="bullet">
/// <item>OpenMP (libtorch its own copy of libgomp, the FAISS shim the system's): OMP_WAIT_POLICY=PASSIVE, idle threads
/// sleep. The benchmark measured backbone time at batch 1 under load going from about 840 ms to about 70 ms per
/// image.</item>
/// <item>The pthread OpenBLAS (the projected search's sgemms, FAISS's flat search): its idle threads call sched_yield
/// for 2^28 cycles (about 0.1 s) before they sleep, after every sgemm. OPENBLAS_THREAD_TIMEOUT=4 (its smallest, 2^4
/// cycles) makes them sleep at once; a sleeping thread is woken by the next sgemm.</item>
/// </list>
/// A value the user set in the environment is left alone.
/// </summary>
internal static class NativeThreading
{
    /// <summary>The variables and the values set when the environment has none.</summary>
    internal static readonly (string Name, string Value)[] Defaults =
    [
        ("OMP_WAIT_POLICY", "PASSIVE"),
        ("OPENBLAS_THREAD_TIMEOUT", "4"),
    ];

    // A library module initializer on purpose: it has to run before any code of this assembly touches torch or FAISS.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void SetDefaults()
    {
        if (!OperatingSystem.IsLinux()) return;
        foreach (var (name, value) in Defaults)
        {
            if (Environment.GetEnvironmentVariable(name) is not null) continue;
            // Environment.SetEnvironmentVariable changes only .NET's copy on Unix; native getenv reads libc's environ.
            try { _ = LibC.SetEnv(name, value, 0); }
            catch (DllNotFoundException) { return; }
            catch (EntryPointNotFoundException) { return; }
        }
    }
}
