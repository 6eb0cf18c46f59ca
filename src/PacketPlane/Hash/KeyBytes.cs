using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PacketPlane.Hash;

/// <summary>
/// Equality of fixed-size keys. The size is a constant for each key type, so the JIT keeps only the branch that
/// applies: the 16-byte IPv4 5-tuple is one 128-bit compare, 32/40/48/64-byte keys (IPv6 5-tuples) one or two
/// 256-bit compares, like DPDK's rte_hash_k16/k32/k48_cmp_eq.
/// </summary>
internal static unsafe class KeyBytes
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Equal<TKey>(in TKey key, byte* stored) where TKey : unmanaged
    {
        ref byte a = ref Unsafe.As<TKey, byte>(ref Unsafe.AsRef(in key));
        if (sizeof(TKey) == 4)
            return Unsafe.ReadUnaligned<uint>(ref a) == Unsafe.ReadUnaligned<uint>(stored);
        if (sizeof(TKey) == 8)
            return Unsafe.ReadUnaligned<ulong>(ref a) == Unsafe.ReadUnaligned<ulong>(stored);
        if (sizeof(TKey) == 16)
            return Vector128.LoadUnsafe(ref a) == Vector128.Load(stored);
        if (sizeof(TKey) == 32 && Vector256.IsHardwareAccelerated)
            return Vector256.LoadUnsafe(ref a) == Vector256.Load(stored);
        if (sizeof(TKey) == 40 && Vector256.IsHardwareAccelerated)
        {
            return Vector256.LoadUnsafe(ref a) == Vector256.Load(stored)
                && Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref a, 32)) == Unsafe.ReadUnaligned<ulong>(stored + 32);
        }
        if (sizeof(TKey) == 48 && Vector256.IsHardwareAccelerated)
        {
            // Two overlapping 32-byte loads cover bytes 0-47.
            return ((Vector256.LoadUnsafe(ref a) ^ Vector256.Load(stored))
                | (Vector256.LoadUnsafe(ref a, (nuint)16) ^ Vector256.Load(stored + 16))) == Vector256<byte>.Zero;
        }
        if (sizeof(TKey) == 64 && Vector256.IsHardwareAccelerated)
        {
            return ((Vector256.LoadUnsafe(ref a) ^ Vector256.Load(stored))
                | (Vector256.LoadUnsafe(ref a, (nuint)32) ^ Vector256.Load(stored + 32))) == Vector256<byte>.Zero;
        }
        return MemoryMarshal.CreateReadOnlySpan(ref a, sizeof(TKey)).SequenceEqual(new ReadOnlySpan<byte>(stored, sizeof(TKey)));
    }
}
