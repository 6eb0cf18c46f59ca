using System;

namespace PacketPlane.Memory;

/// <summary>
/// Per-packet offload flags with the bit positions of DPDK's <c>RTE_MBUF_F_*</c> (rte_mbuf_core.h), so a DPDK
/// user reads them the same way. RX flags are written by drivers; TX flags are requests from the application.
/// </summary>
[Flags]
public enum OffloadFlags : ulong
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>RX: the packet carried a VLAN tag; <see cref="Packet.VlanTci"/> holds it.</summary>
    RxVlan = 1UL << 0,
    /// <summary>RX: <see cref="Packet.RssHash"/> is valid.</summary>
    RxRssHash = 1UL << 1,
    /// <summary>RX: flow director match.</summary>
    RxFdir = 1UL << 2,
    /// <summary>RX: L4 checksum is wrong.</summary>
    RxL4ChecksumBad = 1UL << 3,
    /// <summary>RX: IP header checksum is wrong.</summary>
    RxIpChecksumBad = 1UL << 4,
    /// <summary>RX: outer IP checksum is wrong.</summary>
    RxOuterIpChecksumBad = 1UL << 5,
    /// <summary>RX: the VLAN tag was stripped from the data.</summary>
    RxVlanStripped = 1UL << 6,
    /// <summary>RX: IP header checksum verified good.</summary>
    RxIpChecksumGood = 1UL << 7,
    /// <summary>RX: L4 checksum verified good.</summary>
    RxL4ChecksumGood = 1UL << 8,
    /// <summary>RX: both IP checksum bits: checksum not present / not checked.</summary>
    RxIpChecksumMask = RxIpChecksumBad | RxIpChecksumGood,
    /// <summary>RX: both L4 checksum bits.</summary>
    RxL4ChecksumMask = RxL4ChecksumBad | RxL4ChecksumGood,

    /// <summary>TX: segment as TCP (TSO).</summary>
    TxTcpSegmentation = 1UL << 50,
    /// <summary>TX: compute the TCP checksum.</summary>
    TxTcpChecksum = 1UL << 52,
    /// <summary>TX: compute the SCTP checksum.</summary>
    TxSctpChecksum = 2UL << 52,
    /// <summary>TX: compute the UDP checksum.</summary>
    TxUdpChecksum = 3UL << 52,
    /// <summary>TX: the two L4 checksum request bits.</summary>
    TxL4Mask = 3UL << 52,
    /// <summary>TX: compute the IPv4 header checksum.</summary>
    TxIpChecksum = 1UL << 54,
    /// <summary>TX: the packet is IPv4.</summary>
    TxIpv4 = 1UL << 55,
    /// <summary>TX: the packet is IPv6.</summary>
    TxIpv6 = 1UL << 56,
    /// <summary>TX: insert <see cref="Packet.VlanTci"/> as a VLAN tag.</summary>
    TxVlan = 1UL << 57,

    /// <summary>The data buffer is external memory.</summary>
    External = 1UL << 61,
    /// <summary>This mbuf is a clone attached to another mbuf's data buffer.</summary>
    Indirect = 1UL << 62,
}
