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
