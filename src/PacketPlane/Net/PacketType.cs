using System;

namespace PacketPlane.Net;

/// <summary>
/// Packet type as DPDK's <c>RTE_PTYPE_*</c> values (same bit layout, so values match what a DPDK user expects):
/// L2 in bits 0-3, L3 in bits 4-7, L4 in bits 8-11. Written by drivers that classify in hardware and by
/// the software parser in PacketPlane.Net in software.
/// </summary>
[Flags]
public enum PacketType : uint
{
    /// <summary>Not classified, or malformed.</summary>
    Unknown = 0,

    /// <summary>Ethernet II.</summary>
    L2Ether = 0x1,
    /// <summary>Ethernet carrying ARP.</summary>
    L2EtherArp = 0x3,
    /// <summary>Ethernet with one VLAN tag.</summary>
    L2EtherVlan = 0x6,
    /// <summary>Ethernet with two VLAN tags (QinQ).</summary>
    L2EtherQinq = 0x7,
    /// <summary>Mask of the L2 bits.</summary>
    L2Mask = 0xf,

    /// <summary>IPv4 without options.</summary>
    L3Ipv4 = 0x10,
    /// <summary>IPv4 with options.</summary>
    L3Ipv4Ext = 0x30,
    /// <summary>IPv6 without extension headers.</summary>
    L3Ipv6 = 0x40,
    /// <summary>IPv4, options unknown (header not parsed).</summary>
    L3Ipv4ExtUnknown = 0x90,
    /// <summary>IPv6 with extension headers.</summary>
    L3Ipv6Ext = 0xc0,
    /// <summary>IPv6, extension headers unknown.</summary>
    L3Ipv6ExtUnknown = 0xe0,
    /// <summary>Mask of the L3 bits.</summary>
    L3Mask = 0xf0,

    /// <summary>TCP.</summary>
    L4Tcp = 0x100,
    /// <summary>UDP.</summary>
    L4Udp = 0x200,
    /// <summary>An IP fragment (L4 header absent or partial).</summary>
    L4Frag = 0x300,
    /// <summary>SCTP.</summary>
    L4Sctp = 0x400,
    /// <summary>ICMP or ICMPv6.</summary>
    L4Icmp = 0x500,
    /// <summary>Any other non-fragmented IP payload.</summary>
    L4NonFrag = 0x600,
    /// <summary>IGMP.</summary>
    L4Igmp = 0x700,
    /// <summary>Mask of the L4 bits.</summary>
    L4Mask = 0xf00,
}
