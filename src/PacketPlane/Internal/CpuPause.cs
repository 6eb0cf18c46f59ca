using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace PacketPlane.Internal;

/// <summary>The spin-wait hint (x86 PAUSE, Arm YIELD) for loops that wait on another core.</summary>
internal static class CpuPause
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pause()
    {
        if (X86Base.IsSupported)
            X86Base.Pause();
        else if (ArmBase.IsSupported)
            ArmBase.Yield();
        else
            System.Threading.Thread.SpinWait(1);
    }
}
