using System.Runtime.CompilerServices;

namespace PacketPlane.Lpm;

/// <summary>
/// One 32-bit entry of the IPv4 tables, laid out as DPDK's <c>struct rte_lpm_tbl_entry</c> on little-endian
/// machines: next hop in bits 0-23, valid in bit 24, valid_group in bit 25, depth in bits 26-31. In tbl24 an entry
/// with both valid and valid_group set points at a tbl8 group (its next-hop field is the group index); every other
/// valid entry is a final answer. An invalid entry is all zeros, so a group whose entries are all equal can be
/// folded back into its tbl24 entry by comparing words.
/// </summary>
internal static class Lpm4Entry
{
    public const uint NextHopMask = 0x00FF_FFFF;
    public const uint Valid = 0x0100_0000;          // RTE_LPM_LOOKUP_SUCCESS
    public const uint Group = 0x0200_0000;
    public const uint ValidGroup = Valid | Group;   // RTE_LPM_VALID_EXT_ENTRY_BITMASK
    public const int DepthShift = 26;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Route(uint nextHop, int depth) => nextHop | Valid | ((uint)depth << DepthShift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint GroupPointer(uint groupIndex) => groupIndex | ValidGroup;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsValid(uint entry) => (entry & Valid) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsGroup(uint entry) => (entry & ValidGroup) == ValidGroup;

    /// <summary>
    /// The lookup's one-bit form of <see cref="IsGroup"/>: this table never leaves the group bit on anything but a
    /// group pointer (a route's entry has it clear, an invalid entry is all zeros; rte_lpm instead clears only the
    /// valid bit, so it must test both). One test instead of four instructions leaves more room in the CPU's
    /// reorder window for independent lookups, which is what a lookup's speed depends on.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsGroupPointer(uint entry) => (entry & Group) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Depth(uint entry) => (int)(entry >> DepthShift);
}
