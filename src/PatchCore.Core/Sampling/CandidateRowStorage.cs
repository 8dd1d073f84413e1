using TorchSharp;

namespace PatchCore.Core.Sampling;

/// <summary>Where a <see cref="CandidateStore"/> keeps its full float16 rows.</summary>
public enum CandidateRowStorage
{
    /// <summary>
    /// Managed memory up to <see cref="CandidateStoreOptions.MemoryBudgetBytes"/>, memory-mapped temp files beyond
    /// it (mapped pages that were written count in the process's RSS as well). Rows are read in place.
    /// </summary>
    Memory,

    /// <summary>
    /// One temp file in <see cref="CandidateStoreOptions.SpillDirectory"/>, written with plain writes and read back
    /// with a system call per read: the rows live in the OS page cache, not in the process's resident memory. For
    /// when only a few rows are read back (the coreset needs only the projected rows, see <see cref="CandidateStoreOptions.ProjectionMemoryBytes"/>).
    /// </summary>
    TempFile,
}
