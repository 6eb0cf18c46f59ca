using System;

namespace PacketPlane.Ethdev;

/// <summary>Receive offloads, with DPDK's RTE_ETH_RX_OFFLOAD_* bit positions.</summary>
[Flags]
public enum RxOffloads : ulong
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>Strip VLAN tags into the mbuf.</summary>
    VlanStrip = 1UL << 0,
    /// <summary>Verify IPv4 header checksums.</summary>
    Ipv4Checksum = 1UL << 1,
    /// <summary>Verify UDP checksums.</summary>
    UdpChecksum = 1UL << 2,
    /// <summary>Verify TCP checksums.</summary>
    TcpChecksum = 1UL << 3,
    /// <summary>Large receive offload.</summary>
    TcpLro = 1UL << 4,
    /// <summary>Strip QinQ outer tags.</summary>
    QinqStrip = 1UL << 5,
    /// <summary>Verify outer IPv4 checksums.</summary>
    OuterIpv4Checksum = 1UL << 6,
    /// <summary>VLAN filtering.</summary>
    VlanFilter = 1UL << 9,
    /// <summary>Receive frames larger than one mbuf into chained mbufs.</summary>
    Scatter = 1UL << 13,
    /// <summary>Timestamp received packets.</summary>
    Timestamp = 1UL << 14,
    /// <summary>Keep the Ethernet CRC in the data.</summary>
    KeepCrc = 1UL << 16,
    /// <summary>Verify SCTP checksums.</summary>
    SctpChecksum = 1UL << 17,
    /// <summary>Verify outer UDP checksums.</summary>
    OuterUdpChecksum = 1UL << 18,
    /// <summary>Deliver the RSS hash in the mbuf.</summary>
    RssHash = 1UL << 19,
    /// <summary>IPv4, UDP and TCP checksums.</summary>
    Checksum = Ipv4Checksum | UdpChecksum | TcpChecksum,
}

/// <summary>Transmit offloads, with DPDK's RTE_ETH_TX_OFFLOAD_* bit positions.</summary>
[Flags]
public enum TxOffloads : ulong
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>Insert VLAN tags from the mbuf.</summary>
    VlanInsert = 1UL << 0,
    /// <summary>Compute IPv4 header checksums.</summary>
    Ipv4Checksum = 1UL << 1,
    /// <summary>Compute UDP checksums.</summary>
    UdpChecksum = 1UL << 2,
    /// <summary>Compute TCP checksums.</summary>
    TcpChecksum = 1UL << 3,
    /// <summary>Compute SCTP checksums.</summary>
    SctpChecksum = 1UL << 4,
    /// <summary>TCP segmentation.</summary>
    TcpTso = 1UL << 5,
    /// <summary>UDP segmentation.</summary>
    UdpTso = 1UL << 6,
    /// <summary>Compute outer IPv4 checksums.</summary>
    OuterIpv4Checksum = 1UL << 7,
    /// <summary>Several lcores may transmit on one queue without locking.</summary>
    MtLockFree = 1UL << 14,
    /// <summary>Chained (multi-segment) mbufs may be sent.</summary>
    MultiSegs = 1UL << 15,
    /// <summary>All mbufs of a queue come from one pool and have refcount 1, so they can be freed in bulk.</summary>
    MbufFastFree = 1UL << 16,
}

/// <summary>Packet kinds the RSS hash covers, with DPDK's RTE_ETH_RSS_* bit positions.</summary>
[Flags]
public enum RssHashFunctions : ulong
{
    /// <summary>No RSS.</summary>
    None = 0,
    /// <summary>IPv4 addresses.</summary>
    Ipv4 = 1UL << 2,
    /// <summary>Fragmented IPv4.</summary>
    FragIpv4 = 1UL << 3,
    /// <summary>IPv4 TCP, addresses and ports.</summary>
    NonFragIpv4Tcp = 1UL << 4,
    /// <summary>IPv4 UDP, addresses and ports.</summary>
    NonFragIpv4Udp = 1UL << 5,
    /// <summary>IPv4 SCTP.</summary>
    NonFragIpv4Sctp = 1UL << 6,
    /// <summary>Other IPv4.</summary>
    NonFragIpv4Other = 1UL << 7,
    /// <summary>IPv6 addresses.</summary>
    Ipv6 = 1UL << 8,
    /// <summary>Fragmented IPv6.</summary>
    FragIpv6 = 1UL << 9,
    /// <summary>IPv6 TCP.</summary>
    NonFragIpv6Tcp = 1UL << 10,
    /// <summary>IPv6 UDP.</summary>
    NonFragIpv6Udp = 1UL << 11,
    /// <summary>IPv6 SCTP.</summary>
    NonFragIpv6Sctp = 1UL << 12,
    /// <summary>Other IPv6.</summary>
    NonFragIpv6Other = 1UL << 13,
    /// <summary>Every IP kind (DPDK's RTE_ETH_RSS_IP).</summary>
    Ip = Ipv4 | FragIpv4 | NonFragIpv4Other | Ipv6 | FragIpv6 | NonFragIpv6Other,
    /// <summary>TCP over IPv4 and IPv6.</summary>
    Tcp = NonFragIpv4Tcp | NonFragIpv6Tcp,
    /// <summary>UDP over IPv4 and IPv6.</summary>
    Udp = NonFragIpv4Udp | NonFragIpv6Udp,
}
