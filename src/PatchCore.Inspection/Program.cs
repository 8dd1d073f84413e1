using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using PatchCore.Core;
using PatchCore.Core.Native;
using PatchCore.Inspection;
using PatchCore.Inspection.Processing;

// Exit codes: 0 stopped cleanly (SIGTERM, Ctrl+C); 1 the worker failed while running; 2 it could not start
// (bad configuration, unreadable folder, bad bank).
// the C allocator, before the threads that allocate much exist: two arenas (one per stage that allocates much), and
// large blocks kept for reuse (NativeHeap); what the pipeline frees goes back when it has drained (InspectionWorker)
NativeHeap.CapArenas(2);
NativeHeap.KeepLargeBlocks();
try
{
    using var host = InspectionHost.Build(args);
    var fault = host.Services.GetRequiredService<WorkerFault>();
    await host.RunAsync();
    return fault.Error is null ? 0 : 1;
}
catch (OptionsValidationException e)
{
    Console.Error.WriteLine("patchcore-inspection: cannot start, invalid configuration:");
    foreach (string failure in e.Failures) Console.Error.WriteLine("  " + failure);
    return 2;
}
catch (PatchCoreException e)
{
    Console.Error.WriteLine($"patchcore-inspection: cannot start: {e.Message}");
    return 2;
}
catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException || e.Message.StartsWith("Failed to bind", StringComparison.Ordinal))
{
    // Kestrel could not listen where Inspection:Http:Urls says (the port is taken, the address is not this machine's).
    Console.Error.WriteLine($"patchcore-inspection: cannot start: Inspection:Http:Urls: {e.Message}");
    return 2;
}
