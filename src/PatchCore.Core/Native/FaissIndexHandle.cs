using Microsoft.Win32.SafeHandles;

namespace PatchCore.Core.Native;

/// <summary>Owns one native faiss::Index; releasing it deletes the index.</summary>
internal sealed class FaissIndexHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public FaissIndexHandle() : base(ownsHandle: true) { }

    protected override bool ReleaseHandle()
    {
        FaissNativeMethods.IndexFree(handle);
        return true;
    }
}
