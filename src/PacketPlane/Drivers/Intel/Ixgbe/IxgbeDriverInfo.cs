using System.Collections.Generic;

namespace PacketPlane.Drivers.Intel.Ixgbe;

/// <summary>What the ixgbe driver claims.</summary>
internal static class IxgbeDriverInfo
{
    public const string Name = "net_ixgbe";
    public const ushort VendorId = 0x8086;

    /// <summary>
    /// 82599 functions with SFP+ cages (the link set-up is 10G SFI, 4.6.4): SFP 0x10FB, SFP_EM 0x1507, SFP_SF2 0x154D,
    /// SFP_SF_QP 0x154A, SFP_FCOE 0x1529, 82599EN_SFP 0x1557 (ids from DPDK's ixgbe_type.h).
    /// </summary>
    public static IReadOnlySet<ushort> DeviceIds { get; } = new HashSet<ushort> { 0x10FB, 0x1507, 0x154D, 0x154A, 0x1529, 0x1557 };
}
