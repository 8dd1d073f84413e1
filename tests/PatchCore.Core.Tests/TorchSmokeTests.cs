using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PatchCore.Core.Tests;

public class TorchSmokeTests
{
    [Fact]
    public void NativeTorchLoadsAndMultipliesMatrices()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        var b = tensor(new float[] { 5, 6, 7, 8 }, [2, 2]);
        var c = matmul(a, b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }
}

public class NativeThreadingTests
{
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getenv")]
    private static extern IntPtr NativeGetEnv([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string name);

    [Theory]
    [InlineData("OMP_WAIT_POLICY", "PASSIVE")]
    [InlineData("OPENBLAS_THREAD_TIMEOUT", "4")]
    public void IdleNativeThreadsSleepInTheNativeEnvironmentUnlessTheUserChoseOtherwise(string name, string value)
    {
        _ = PatchCore.Core.Imaging.ImageGeometry.Default; // running any code of the assembly runs its module initializer first
        string? managed = Environment.GetEnvironmentVariable(name);
        string? native = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(NativeGetEnv(name));
        if (managed is not null && !string.Equals(managed, value, StringComparison.OrdinalIgnoreCase))
            Assert.Equal(managed, native); // the user's choice is kept
        else
            Assert.Equal(value, native, ignoreCase: true);
    }
}
