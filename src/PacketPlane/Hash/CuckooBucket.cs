using System;
using System.Runtime.InteropServices;

namespace PacketPlane.Hash;

/// <summary>
/// One bucket: eight 16-bit signatures then eight key-store indexes, 48 bytes padded to a cache line, as DPDK's
/// <c>struct rte_hash_bucket</c>. Eight entries is the trade-off DPDK chose: one line per bucket, and all eight
/// signatures compared by a single 128-bit instruction. Index 0 means the slot is empty.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal unsafe struct CuckooBucket
{
    public const int Entries = 8;

    public fixed ushort Signatures[Entries];

    public fixed uint KeyIndexes[Entries];
}

/// <summary>Test access to the signature compare (tests cannot use pointers).</summary>
internal static unsafe class CuckooSignatures
{
    /// <summary>Vector and scalar match masks of a bucket holding <paramref name="signatures"/>.</summary>
    public static (uint Vector, uint Scalar) Match(ReadOnlySpan<ushort> signatures, ushort signature)
    {
        CuckooBucket bucket = default;
        for (int i = 0; i < CuckooBucket.Entries; i++)
            bucket.Signatures[i] = signatures[i];
        return (CuckooHash<byte, byte>.MatchSignatures(&bucket, signature), CuckooHash<byte, byte>.MatchSignaturesScalar(&bucket, signature));
    }
}
