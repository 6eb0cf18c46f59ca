using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace PacketPlane.Internal;

/// <summary>
/// The prefetch hint (x86 PREFETCHT0) for lines a loop will read soon, so misses it can name ahead of time overlap
/// instead of coming one after another. Elsewhere a no-op: .NET exposes no Arm prefetch.
/// </summary>
internal static unsafe class CpuPrefetch
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Read(void* address)
    {
        if (Sse.IsSupported)
            Sse.Prefetch0(address);
    }
}
