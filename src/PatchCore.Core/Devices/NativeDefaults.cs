using System.Runtime.CompilerServices;
using PatchCore.Core.Native;

namespace PatchCore.Core.Devices;

/// <summary>
/// Process-wide native defaults, set in libc's environment before libtorch or FAISS load (both read them once, at
/// load). A value the user set in the environment is left alone.
/// <list type="bullet">
/// <item><c>OMP_WAIT_POLICY=PASSIVE</c>: libtorch (its own libgomp) and the FAISS shim (the system's) each bring an
/// OpenMP runtime whose idle threads spin after a parallel region by default, so the two pools (and any other load
/// on a 2-core plant PC) steal each other's cores. The benchmark measured backbone time at batch 1 under load going
/// from about 840 ms to about 70 ms per image with idle threads sleeping.</item>
/// <item><c>THP_MEM_ALLOC_ENABLE=1</c>: libtorch's CPU allocator aligns buffers of 2 MB and more to 2 MB and asks for
/// transparent huge pages on them (madvise). Where the kernel leaves huge pages to madvise (Debian's default), fresh
/// memory is otherwise faulted in 4 KB pages, and on a virtual machine each fault is slow: touching 64 MB took about
/// 240 ms in 4 KB pages and about 6 ms in huge pages on this project's machines. Activations are fresh buffers on
/// every batch: embedding a 1128x460 image at native size took about 200-230 ms with it and 290-320 ms without.</item>
/// </list>
/// </summary>
internal static class NativeDefaults
{
    /// <summary>The settings and their defaults, in the order they are applied.</summary>
    internal static readonly IReadOnlyList<(string Name, string Value)> Settings =
    [
        ("OMP_WAIT_POLICY", "PASSIVE"),
        ("THP_MEM_ALLOC_ENABLE", "1"),
    ];

    // A library module initializer on purpose: it has to run before any code of this assembly touches torch or FAISS.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Apply()
    {
        if (!OperatingSystem.IsLinux()) return;
        foreach (var (name, value) in Settings)
        {
            if (Environment.GetEnvironmentVariable(name) is not null) continue;
            // Environment.SetEnvironmentVariable changes only .NET's copy on Unix; native getenv reads libc's environ.
            try { _ = LibC.SetEnv(name, value, 0); }
            catch (DllNotFoundException) { return; }
            catch (EntryPointNotFoundException) { return; }
        }
    }
}
