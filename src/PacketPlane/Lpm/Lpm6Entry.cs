using System.Runtime.CompilerServices;

namespace PacketPlane.Lpm;

/// <summary>
/// One 32-bit entry of the IPv6 tables, laid out as DPDK's <c>struct rte_lpm6_tbl_entry</c>: next hop (or group
/// index) in bits 0-20, depth in bits 21-28, valid in bit 29, extended in bit 31. An extended entry points at the
/// group for the next address byte. An invalid entry is all zeros.
/// </summary>
internal static class Lpm6Entry
{
    public const uint NextHopMask = 0x001F_FFFF;
    public const int DepthShift = 21;
    public const uint Valid = 1u << 29;                 // RTE_LPM6_LOOKUP_SUCCESS
    public const uint Extended = 1u << 31;
    public const uint ValidExtended = Valid | Extended; // RTE_LPM6_VALID_EXT_ENTRY_BITMASK

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Route(uint nextHop, int depth) => nextHop | Valid | ((uint)depth << DepthShift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint GroupPointer(int group) => (uint)group | ValidExtended;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsValid(uint entry) => (entry & Valid) != 0;

    /// <summary>True for a group pointer. Only pointers carry the extended bit (an invalid entry is all zeros), so one bit is tested.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsExtended(uint entry) => (entry & Extended) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Depth(uint entry) => (int)((entry >> DepthShift) & 0xFF);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int GroupIndex(uint entry) => (int)(entry & NextHopMask);
}
