using System;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PacketPlane.Hash;

/// <summary>
/// Bob Jenkins' lookup3 hash (2006, public domain), with the results of DPDK's <c>rte_jhash</c> family: the key is
/// read as little-endian 32-bit words, 12 bytes per mixing round, a short last block zero-padded.
/// </summary>
public static class Jhash
{
    /// <summary>lookup3's initial state constant.</summary>
    public const uint GoldenRatio = 0xDEAD_BEEF;

    /// <summary>Hashes <paramref name="key"/> (<c>rte_jhash</c>).</summary>
    public static uint Compute(ReadOnlySpan<byte> key, uint initValue = 0)
    {
        uint secondary = 0;
        return Compute2(ref MemoryMarshal.GetReference(key), (nuint)key.Length, initValue, ref secondary);
    }

    /// <summary>
    /// Hashes <paramref name="key"/> into two values (<c>rte_jhash_2hashes</c>): on entry the seeds, on return
    /// the primary (<paramref name="primary"/>, equal to <see cref="Compute(ReadOnlySpan{byte}, uint)"/>) and a second, independent one.
    /// </summary>
    public static void Compute2(ReadOnlySpan<byte> key, ref uint primary, ref uint secondary) =>
        primary = Compute2(ref MemoryMarshal.GetReference(key), (nuint)key.Length, primary, ref secondary);

    /// <summary>Hashes whole 32-bit words (<c>rte_jhash_32b</c>).</summary>
    public static uint Compute32b(ReadOnlySpan<uint> words, uint initValue = 0) =>
        Compute(MemoryMarshal.AsBytes(words), initValue);

    /// <summary>Hashes three words (<c>rte_jhash_3words</c>).</summary>
    public static uint ThreeWords(uint a, uint b, uint c, uint initValue = 0) => Final3(a + 12, b + 12, c + 12, initValue);

    /// <summary>Hashes two words (<c>rte_jhash_2words</c>).</summary>
    public static uint TwoWords(uint a, uint b, uint initValue = 0) => Final3(a + 8, b + 8, 8, initValue);

    /// <summary>Hashes one word (<c>rte_jhash_1word</c>).</summary>
    public static uint OneWord(uint a, uint initValue = 0) => Final3(a + 4, 4, 4, initValue);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Compute(ref byte key, nuint length, uint initValue)
    {
        uint secondary = 0;
        return Compute2(ref key, length, initValue, ref secondary);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Compute2(ref byte key, nuint length, uint initValue, ref uint secondary)
    {
        uint a, b, c;
        a = b = c = GoldenRatio + (uint)length + initValue;
        c += secondary;
        nuint offset = 0;
        while (length - offset > 12)
        {
            a += Word(ref key, offset);
            b += Word(ref key, offset + 4);
            c += Word(ref key, offset + 8);
            Mix(ref a, ref b, ref c);
            offset += 12;
        }
        nuint tail = length - offset;
        if (tail == 0)
        {
            // lookup3: a zero-length final block is not mixed.
            secondary = b;
            return c;
        }
        a += Partial(ref key, offset, tail);
        if (tail > 4)
            b += Partial(ref key, offset + 4, tail - 4);
        if (tail > 8)
            c += Partial(ref key, offset + 8, tail - 8);
        Final(ref a, ref b, ref c);
        secondary = b;
        return c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Word(ref byte key, nuint offset)
    {
        uint value = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref key, offset));
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }

    /// <summary>Up to 4 bytes as a little-endian word, missing bytes zero (the masked read of rte_jhash).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Partial(ref byte key, nuint offset, nuint available)
    {
        if (available >= 4)
            return Word(ref key, offset);
        uint value = Unsafe.Add(ref key, offset);
        if (available > 1)
            value |= (uint)Unsafe.Add(ref key, offset + 1) << 8;
        if (available > 2)
            value |= (uint)Unsafe.Add(ref key, offset + 2) << 16;
        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mix(ref uint a, ref uint b, ref uint c)
    {
        a -= c; a ^= BitOperations.RotateLeft(c, 4); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 6); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 8); b += a;
        a -= c; a ^= BitOperations.RotateLeft(c, 16); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 19); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 4); b += a;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Final(ref uint a, ref uint b, ref uint c)
    {
        c ^= b; c -= BitOperations.RotateLeft(b, 14);
        a ^= c; a -= BitOperations.RotateLeft(c, 11);
        b ^= a; b -= BitOperations.RotateLeft(a, 25);
        c ^= b; c -= BitOperations.RotateLeft(b, 16);
        a ^= c; a -= BitOperations.RotateLeft(c, 4);
        b ^= a; b -= BitOperations.RotateLeft(a, 14);
        c ^= b; c -= BitOperations.RotateLeft(b, 24);
    }

    private static uint Final3(uint a, uint b, uint c, uint initValue)
    {
        a += GoldenRatio + initValue;
        b += GoldenRatio + initValue;
        c += GoldenRatio + initValue;
        Final(ref a, ref b, ref c);
        return c;
    }
}
