using PatchCore.Bench.Sections;
using PatchCore.Core;

namespace PatchCore.Bench;

/// <summary>The measurements that run in a child process (see <see cref="ChildProcess"/>).</summary>
internal static class ChildTasks
{
    public static int Run(string kind, string json)
    {
        switch (kind)
        {
            case BuildSection.ChildKind:
                ChildProcess.WriteResult(BuildSection.RunChild(ChildProcess.ReadTask<BuildTask>(json)));
                return 0;
            case UpdateSection.ChildKind:
                ChildProcess.WriteResult(UpdateSection.RunChild(ChildProcess.ReadTask<UpdateTask>(json)));
                return 0;
            case ScalingSection.ChildKind:
                ChildProcess.WriteResult(ScalingSection.RunChild(ChildProcess.ReadTask<ScaleTask>(json)));
                return 0;
            case CoresetScalingSection.ChildKind:
                ChildProcess.WriteResult(CoresetScalingSection.RunChild(ChildProcess.ReadTask<CoresetScaleTask>(json)));
                return 0;
            default:
                throw new PatchCoreException($"Unknown child measurement '{kind}'.");
        }
    }
}
