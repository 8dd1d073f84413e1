using PatchCore.Bench;
using PatchCore.Core.Native;

// the C allocator as the hosts set it (the CLI and the daemon), so that the in-process sections measure what they run
NativeHeap.KeepLargeBlocks();

return BenchCommand.Run(args);
