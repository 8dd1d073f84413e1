using PatchCore.Bench;

return BenchCommand.Run(args);
