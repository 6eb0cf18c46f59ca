using System.Collections.Generic;

namespace PacketPlane.Drivers.Intel.I40e;

/// <summary>What the i40e driver claims.</summary>
internal static class I40eDriverInfo
{
    public const string Name = "net_i40e";
    public const ushort VendorId = 0x8086;

    /// <summary>
    /// X710/XL710/XXV710 physical functions (ids from DPDK's i40e_devids.h): SFP_XL710 0x1572, KX_B 0x1580, KX_C 0x1581,
    /// QSFP_A/B/C 0x1583-0x1585, 10G_BASE_T 0x1586, 20G_KR2 0x1587/0x1588, 10G_BASE_T4 0x1589, 25G_B 0x158A,
    /// 25G_SFP28 0x158B, 10G_B 0x104F, 10G_SFP 0x104E, 10G_BASE_T_BC 0x15FF. X722 parts program RSS through the
    /// admin queue instead of registers and are not claimed.
    /// </summary>
    public static IReadOnlySet<ushort> DeviceIds { get; } = new HashSet<ushort>
    {
        0x1572, 0x1580, 0x1581, 0x1583, 0x1584, 0x1585, 0x1586, 0x1587, 0x1588, 0x1589, 0x158A, 0x158B, 0x104E, 0x104F, 0x15FF,
    };
}
