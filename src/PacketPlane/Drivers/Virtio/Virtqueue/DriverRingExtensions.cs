using System;

namespace PacketPlane.Drivers.Virtio.Virtqueue;

/// <summary>Span forms of the pointer-taking ring calls, for control-path code and tests.</summary>
internal static unsafe class DriverRingExtensions
{
    /// <summary><see cref="IDriverRing.PollUsed"/> into spans (as many as the shorter holds).</summary>
    public static int PollUsed<T>(ref this T ring, Span<nint> tokens, Span<uint> lens) where T : struct, IDriverRing
    {
        fixed (nint* t = tokens)
        fixed (uint* l = lens)
            return ring.PollUsed(t, l, Math.Min(tokens.Length, lens.Length));
    }

    /// <summary><see cref="IDriverRing.AddChain"/> from spans.</summary>
    public static ushort AddChain<T>(ref this T ring, ReadOnlySpan<ulong> addrs, ReadOnlySpan<uint> lens, ushort flags, nint token)
        where T : struct, IDriverRing
    {
        fixed (ulong* a = addrs)
        fixed (uint* l = lens)
            return ring.AddChain(a, l, addrs.Length, flags, token);
    }
}
