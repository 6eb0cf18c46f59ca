using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PacketPlane.Net;

/// <summary>
/// The Internet checksum (RFC 1071): the 16-bit ones' complement of the ones' complement sum of the data taken as
/// big-endian 16-bit words. Values in and out are host-order numbers of the big-endian wire field, so
/// <c>BinaryPrimitives.ReadUInt16BigEndian(field)</c> compares directly with them.
/// </summary>
/// <remarks>
/// <para><see cref="Sum"/> returns a partial sum folded to 16 bits (never complemented) so sums chain: the
/// pseudo-header sum is the <c>initial</c> of the segment's sum. <see cref="Complement"/> finishes it.</para>
/// <para>The bulk sum adds native-order words in wide accumulators and swaps bytes once at the end; RFC 1071
/// section 2(B) shows the sum is independent of byte order that way. A Vector256 or Vector128 path is chosen by
/// hardware support for data of at least <see cref="VectorThreshold"/> bytes; <see cref="SumReference"/> is the
/// plain word-by-word definition the tests compare every path against.</para>
/// </remarks>
public static class Checksum
{
    /// <summary>Data shorter than this is summed with the scalar loop (vector setup does not pay below it).</summary>
    public const int VectorThreshold = 64;

    /// <summary>
    /// Adds <paramref name="data"/> (big-endian 16-bit words; an odd last byte is padded with zero on the right)
    /// to <paramref name="initial"/> in ones' complement arithmetic and returns the sum folded to 16 bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Sum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ulong native;
        if (data.Length < VectorThreshold)
            native = SumNativeScalar(data);
        else if (Vector256.IsHardwareAccelerated)
            native = SumNativeVector256(data);
        else if (Vector128.IsHardwareAccelerated)
            native = SumNativeVector128(data);
        else
            native = SumNativeScalar(data);
        return Fold((ulong)ToNetworkOrder(Fold(native)) + initial);
    }

    /// <summary>Folds a wide ones' complement sum to 16 bits (end-around carry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fold(ulong sum)
    {
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>The checksum field value for a sum: its ones' complement.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Complement(uint sum) => (ushort)~Fold(sum);

    /// <summary>The Internet checksum of <paramref name="data"/> (what goes in a zeroed checksum field).</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Complement(Sum(data));

    /// <summary>
    /// True when data that includes its checksum field sums to all ones, i.e. the checksum is right
    /// (RFC 1071 section 1, step 3).
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> data, uint initial = 0) => Sum(data, initial) == 0xFFFF;

    /// <summary>
    /// Sum of the IPv4 pseudo-header (RFC 768, RFC 9293 section 3.1): source, destination, zero and protocol,
    /// and the L4 length. Addresses are host-order numbers (<see cref="Ipv4Header.SourceAddress"/>).
    /// </summary>
    public static uint PseudoHeaderSum(uint source, uint destination, byte protocol, int l4Length)
    {
        ulong sum = (source >> 16) + (source & 0xFFFF) + (destination >> 16) + (destination & 0xFFFF)
            + protocol + (uint)l4Length;
        return Fold(sum);
    }

    /// <summary>
    /// Sum of the IPv6 pseudo-header (RFC 8200 section 8.1): 16-byte source and destination, the 32-bit
    /// upper-layer length, three zero bytes and the upper-layer protocol.
    /// </summary>
    public static uint PseudoHeaderSum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, int l4Length)
    {
        if (source.Length != 16 || destination.Length != 16)
            throw new ArgumentException($"IPv6 addresses are 16 bytes, got {source.Length} and {destination.Length}");
        uint sum = SumAddress16(source) + SumAddress16(destination);
        return Fold((ulong)sum + ((uint)l4Length >> 16) + ((uint)l4Length & 0xFFFF) + protocol);
    }

    /// <summary>
    /// The checksum of an L4 segment (header with a zeroed checksum field, then payload) after a pseudo-header
    /// whose sum is <paramref name="pseudoHeaderSum"/>. For UDP, a result of 0 is sent as 0xFFFF (RFC 768); see
    /// <see cref="UdpHeader.ComputeChecksum(Ipv4Header)"/>.
    /// </summary>
    public static ushort ComputeL4(uint pseudoHeaderSum, ReadOnlySpan<byte> segment) =>
        Complement(Sum(segment, pseudoHeaderSum));

    /// <summary>
    /// Updates a checksum for one 16-bit field changed from <paramref name="oldValue"/> to
    /// <paramref name="newValue"/> without re-summing the data: RFC 1624 equation 3, HC' = ~(~HC + ~m + m').
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Adjust(ushort checksum, ushort oldValue, ushort newValue) =>
        (ushort)~Fold((uint)(ushort)~checksum + (ushort)~oldValue + newValue);

    /// <summary>RFC 1624 update for a 32-bit field (an IPv4 address): both of its 16-bit words change.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Adjust(ushort checksum, uint oldValue, uint newValue)
    {
        ulong sum = (uint)(ushort)~checksum
            + (uint)(ushort)~(oldValue >> 16) + (uint)(ushort)~oldValue
            + (newValue >> 16) + (newValue & 0xFFFF);
        return (ushort)~Fold(sum);
    }

    /// <summary>
    /// RFC 1624 update for a field of even length (an IPv6 address) changed from <paramref name="oldBytes"/> to
    /// <paramref name="newBytes"/>, both in wire order.
    /// </summary>
    public static ushort Adjust(ushort checksum, ReadOnlySpan<byte> oldBytes, ReadOnlySpan<byte> newBytes)
    {
        if (oldBytes.Length != newBytes.Length || (oldBytes.Length & 1) != 0)
            throw new ArgumentException($"old and new fields must have the same even length, got {oldBytes.Length} and {newBytes.Length}");
        ulong sum = (ushort)~checksum;
        for (int i = 0; i < oldBytes.Length; i += 2)
        {
            sum += (ushort)~BinaryPrimitives.ReadUInt16BigEndian(oldBytes[i..]);
            sum += BinaryPrimitives.ReadUInt16BigEndian(newBytes[i..]);
        }
        return (ushort)~Fold(sum);
    }

    /// <summary>
    /// The definition, word by word (RFC 1071 section 4.1's loop): the reference every faster path is tested
    /// against. Returns the 16-bit folded sum as <see cref="Sum"/> does.
    /// </summary>
    internal static uint SumReference(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ulong sum = initial;
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
            sum += (uint)(data[i] << 8 | data[i + 1]);
        if (i < data.Length)
            sum += (uint)data[i] << 8;
        return Fold(sum);
    }

    /// <summary>The scalar path of <see cref="Sum"/> whatever the length (for tests and benchmarks).</summary>
    internal static uint SumScalar(ReadOnlySpan<byte> data, uint initial = 0) =>
        Fold((ulong)ToNetworkOrder(Fold(SumNativeScalar(data))) + initial);

    /// <summary>The Vector128 path of <see cref="Sum"/> whatever the length (for tests and benchmarks).</summary>
    internal static uint SumVector128(ReadOnlySpan<byte> data, uint initial = 0) =>
        Fold((ulong)ToNetworkOrder(Fold(SumNativeVector128(data))) + initial);

    /// <summary>The Vector256 path of <see cref="Sum"/> whatever the length (for tests and benchmarks).</summary>
    internal static uint SumVector256(ReadOnlySpan<byte> data, uint initial = 0) =>
        Fold((ulong)ToNetworkOrder(Fold(SumNativeVector256(data))) + initial);

    /// <summary>
    /// Sum of native-order 32-bit words into 64 bits with end-around carry, then the tail. The caller folds and
    /// swaps to network order.
    /// </summary>
    private static ulong SumNativeScalar(ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint i = 0;
        ulong sum = 0;
        // Four 32-bit words per step into a 64-bit accumulator: 2^32 steps before it could overflow.
        for (; i + 16 <= length; i += 16)
        {
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i));
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 4));
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 8));
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 12));
        }
        return sum + SumTail(ref p, i, length);
    }

    /// <summary>Bytes from <paramref name="i"/> to <paramref name="length"/> (fewer than 16 or 32), native order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SumTail(ref byte p, nuint i, nuint length)
    {
        ulong sum = 0;
        for (; i + 4 <= length; i += 4)
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i));
        if (i + 2 <= length)
        {
            sum += Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref p, i));
            i += 2;
        }
        if (i < length)
        {
            // The odd last byte is the high (first) byte of a big-endian word padded with zero: in native
            // little-endian order that is the low byte; on a big-endian host it is the high byte.
            byte last = Unsafe.Add(ref p, i);
            sum += BitConverter.IsLittleEndian ? last : (uint)last << 8;
        }
        return sum;
    }

    private static ulong SumNativeVector256(ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint i = 0;
        ulong total = 0;
        Vector256<uint> low16 = Vector256.Create(0xFFFFu);
        while (i + 32 <= length)
        {
            // Each lane gains at most 2 x 0xFFFF per 32-byte vector, so 32768 vectors (1 MiB) cannot overflow a
            // 32-bit lane; spill to the 64-bit total after each such block.
            nuint blockEnd = Math.Min(length & ~(nuint)31, i + 32 * 32768);
            Vector256<uint> acc0 = Vector256<uint>.Zero;
            Vector256<uint> acc1 = Vector256<uint>.Zero;
            for (; i + 64 <= blockEnd; i += 64)
            {
                Vector256<uint> a = Vector256.LoadUnsafe(ref p, i).AsUInt32();
                Vector256<uint> b = Vector256.LoadUnsafe(ref p, i + 32).AsUInt32();
                acc0 += (a & low16) + (a >> 16);
                acc1 += (b & low16) + (b >> 16);
            }
            if (i + 32 <= blockEnd)
            {
                Vector256<uint> a = Vector256.LoadUnsafe(ref p, i).AsUInt32();
                acc0 += (a & low16) + (a >> 16);
                i += 32;
            }
            total += WidenSum(acc0) + WidenSum(acc1);
        }
        return total + SumTail32(ref p, i, length);
    }

    private static ulong SumNativeVector128(ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint i = 0;
        ulong total = 0;
        Vector128<uint> low16 = Vector128.Create(0xFFFFu);
        while (i + 16 <= length)
        {
            // Same bound as the 256-bit path: 32768 vectors per block.
            nuint blockEnd = Math.Min(length & ~(nuint)15, i + 16 * 32768);
            Vector128<uint> acc0 = Vector128<uint>.Zero;
            Vector128<uint> acc1 = Vector128<uint>.Zero;
            for (; i + 32 <= blockEnd; i += 32)
            {
                Vector128<uint> a = Vector128.LoadUnsafe(ref p, i).AsUInt32();
                Vector128<uint> b = Vector128.LoadUnsafe(ref p, i + 16).AsUInt32();
                acc0 += (a & low16) + (a >> 16);
                acc1 += (b & low16) + (b >> 16);
            }
            if (i + 16 <= blockEnd)
            {
                Vector128<uint> a = Vector128.LoadUnsafe(ref p, i).AsUInt32();
                acc0 += (a & low16) + (a >> 16);
                i += 16;
            }
            total += WidenSum(acc0) + WidenSum(acc1);
        }
        return total + SumTail32(ref p, i, length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SumTail32(ref byte p, nuint i, nuint length)
    {
        ulong sum = 0;
        for (; i + 16 <= length; i += 16)
        {
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i));
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 4));
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 8));
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 12));
        }
        return sum + SumTail(ref p, i, length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong WidenSum(Vector256<uint> v)
    {
        (Vector256<ulong> lo, Vector256<ulong> hi) = Vector256.Widen(v);
        return Vector256.Sum(lo + hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong WidenSum(Vector128<uint> v)
    {
        (Vector128<ulong> lo, Vector128<ulong> hi) = Vector128.Widen(v);
        return Vector128.Sum(lo + hi);
    }

    /// <summary>A 16-bit sum of native-order words, as the big-endian-word sum (swap on little-endian hosts).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort ToNetworkOrder(ushort nativeSum) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(nativeSum) : nativeSum;

    private static uint SumAddress16(ReadOnlySpan<byte> a)
    {
        uint sum = 0;
        for (int i = 0; i < 16; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(a[i..]);
        return sum;
    }
}
