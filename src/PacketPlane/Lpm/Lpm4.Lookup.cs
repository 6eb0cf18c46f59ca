using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using PacketPlane.Internal;

namespace PacketPlane.Lpm;

// Burst lookups. The speed of DIR-24-8 on a big table is set by cache and TLB misses on tbl24, so what matters is
// issuing several independent tbl24 loads before any result is needed (rte_lpm_lookupx4's idea), then taking one
// combined test; only lanes that point at a group pay for a second load. No branch depends on whether an address
// hit: a mispredicted branch discards the loads already in flight for the following lookups.
public sealed unsafe partial class Lpm4
{
    /// <summary>True when <see cref="LookupX4(Vector128{uint}, uint)"/> runs on 128-bit SIMD (else a scalar loop of the same result).</summary>
    public static bool IsVector128Accelerated => Vector128.IsHardwareAccelerated;

    /// <summary>True when <see cref="LookupX8(Vector256{uint}, uint)"/> gathers its eight tbl24 entries with AVX2.</summary>
    public static bool IsGatherAccelerated => Avx2.IsSupported;

    /// <summary>
    /// Looks up a burst of addresses (<c>rte_lpm_lookup_bulk</c>, with l3fwd's miss convention): eight at a time
    /// with <see cref="LookupX8(Vector256{uint}, uint)"/>, then four, then one.
    /// </summary>
    /// <param name="ips">Addresses, host byte order.</param>
    /// <param name="nextHops">Receives one next hop per address; at least as long as <paramref name="ips"/>.</param>
    /// <param name="missValue">Written where no route matches (l3fwd passes the ingress port).</param>
    /// <exception cref="ArgumentException"><paramref name="nextHops"/> is shorter than <paramref name="ips"/>.</exception>
    public void LookupBulk(ReadOnlySpan<uint> ips, Span<uint> nextHops, uint missValue)
    {
        if (nextHops.Length < ips.Length)
            ThrowHelper.ThrowArgument(nameof(nextHops), $"nextHops holds {nextHops.Length} results but {ips.Length} addresses were given");
        int n = ips.Length;
        int i = 0;
        fixed (uint* src = ips)
        fixed (uint* dst = nextHops)
        {
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i + 8 <= n; i += 8)
                    Vector256.Store(LookupX8(Vector256.Load(src + i), missValue), dst + i);
            }
            if (Vector128.IsHardwareAccelerated)
            {
                for (; i + 4 <= n; i += 4)
                    Vector128.Store(LookupX4(Vector128.Load(src + i), missValue), dst + i);
            }
            for (; i < n; i++)
                dst[i] = Lookup(src[i], missValue);
        }
    }

    /// <summary>
    /// Looks up four addresses at once (<c>rte_lpm_lookupx4</c>): four independent tbl24 loads, one combined test
    /// for "no lane points at a group", and a second-level load only for the lanes that need one. Unlike
    /// rte_lpm_lookupx4, a miss stays on the fast path (a vector blend puts <paramref name="missValue"/> in its
    /// lane), so random traffic with misses costs no branch mispredictions.
    /// </summary>
    /// <returns>The four next hops, <paramref name="missValue"/> in lanes no route matches.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<uint> LookupX4(Vector128<uint> ips, uint missValue)
    {
        if (!Vector128.IsHardwareAccelerated)
            return LookupX4Scalar(ips, missValue);
        uint* tbl24 = _tbl24;
        Vector128<ulong> index = Vector128.ShiftRightLogical(ips, 8).AsUInt64();
        ulong low = index.ToScalar();
        ulong high = index.GetElement(1);
        Vector128<uint> entries = Vector128.Create(
            tbl24[(uint)low] | (ulong)tbl24[low >> 32] << 32,
            tbl24[(uint)high] | (ulong)tbl24[high >> 32] << 32).AsUInt32();
        if ((entries & Vector128.Create(Lpm4Entry.Group)) != Vector128<uint>.Zero)
            return FinishX4(entries, ips, missValue);
        Vector128<uint> valid = Vector128.Create(Lpm4Entry.Valid);
        return Vector128.ConditionalSelect(Vector128.Equals(entries & valid, valid),
            entries & Vector128.Create(Lpm4Entry.NextHopMask), Vector128.Create(missValue));
    }

    /// <summary>Looks up four addresses from a span (at least 4 in and out).</summary>
    public void LookupX4(ReadOnlySpan<uint> ips, Span<uint> nextHops, uint missValue)
    {
        if (ips.Length < 4 || nextHops.Length < 4)
            ThrowHelper.ThrowArgument(nameof(ips), "LookupX4 needs 4 addresses and room for 4 next hops");
        LookupX4(Vector128.Create(ips), missValue).CopyTo(nextHops);
    }

    /// <summary>
    /// Looks up eight addresses at once: with AVX2 one gather loads all eight tbl24 entries, and only a lane that
    /// points at a group leaves the fast path; otherwise two
    /// <see cref="LookupX4(Vector128{uint}, uint)"/>.
    /// </summary>
    /// <returns>The eight next hops, <paramref name="missValue"/> in lanes no route matches.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<uint> LookupX8(Vector256<uint> ips, uint missValue)
    {
        if (!Avx2.IsSupported)
            return Vector256.Create(LookupX4(ips.GetLower(), missValue), LookupX4(ips.GetUpper(), missValue));
        Vector256<int> index = Vector256.ShiftRightLogical(ips, 8).AsInt32();
        Vector256<uint> entries = Avx2.GatherVector256((int*)_tbl24, index, sizeof(uint)).AsUInt32();
        if ((entries & Vector256.Create(Lpm4Entry.Group)) != Vector256<uint>.Zero)
            return FinishX8(entries, ips, missValue);
        Vector256<uint> valid = Vector256.Create(Lpm4Entry.Valid);
        return Vector256.ConditionalSelect(Vector256.Equals(entries & valid, valid),
            entries & Vector256.Create(Lpm4Entry.NextHopMask), Vector256.Create(missValue));
    }

    /// <summary>Looks up eight addresses from a span (at least 8 in and out).</summary>
    public void LookupX8(ReadOnlySpan<uint> ips, Span<uint> nextHops, uint missValue)
    {
        if (ips.Length < 8 || nextHops.Length < 8)
            ThrowHelper.ThrowArgument(nameof(ips), "LookupX8 needs 8 addresses and room for 8 next hops");
        LookupX8(Vector256.Create(ips), missValue).CopyTo(nextHops);
    }

    /// <summary>The scalar reference the vector paths are tested against.</summary>
    internal Vector128<uint> LookupX4Scalar(Vector128<uint> ips, uint missValue) => Vector128.Create(
        Lookup(ips.GetElement(0), missValue), Lookup(ips.GetElement(1), missValue),
        Lookup(ips.GetElement(2), missValue), Lookup(ips.GetElement(3), missValue));

    /// <summary>The eight-lane form built from two Vector128 lookups (what runs without AVX2), for tests.</summary>
    internal Vector256<uint> LookupX8TwoX4(Vector256<uint> ips, uint missValue) =>
        Vector256.Create(LookupX4(ips.GetLower(), missValue), LookupX4(ips.GetUpper(), missValue));

    // Slow lanes: a group pointer needs its tbl8 load, a miss gets missValue. Kept out of line so the fast path
    // stays small enough to inline into the caller's loop.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Vector128<uint> FinishX4(Vector128<uint> entries, Vector128<uint> ips, uint missValue) => Vector128.Create(
        Finish(entries.GetElement(0), ips.GetElement(0), missValue), Finish(entries.GetElement(1), ips.GetElement(1), missValue),
        Finish(entries.GetElement(2), ips.GetElement(2), missValue), Finish(entries.GetElement(3), ips.GetElement(3), missValue));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Vector256<uint> FinishX8(Vector256<uint> entries, Vector256<uint> ips, uint missValue)
    {
        Vector256<uint> result = default;
        for (int lane = 0; lane < Vector256<uint>.Count; lane++)
            result = result.WithElement(lane, Finish(entries.GetElement(lane), ips.GetElement(lane), missValue));
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Finish(uint entry, uint ip, uint missValue)
    {
        if (Lpm4Entry.IsGroupPointer(entry))
            entry = _tbl8[((entry & Lpm4Entry.NextHopMask) << 8) + (ip & 0xFF)];
        return Lpm4Entry.IsValid(entry) ? entry & Lpm4Entry.NextHopMask : missValue;
    }
}
