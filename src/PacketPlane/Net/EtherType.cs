namespace PacketPlane.Net;

/// <summary>
/// EtherType values (IEEE 802 numbers, as DPDK's <c>RTE_ETHER_TYPE_*</c>), in host order: compare them with
/// <see cref="EthernetHeader.EtherType"/>, which converts from the wire's big-endian order.
/// </summary>
public static class EtherType
{
    /// <summary>IPv4 (0x0800).</summary>
    public const ushort Ipv4 = 0x0800;
    /// <summary>ARP (0x0806).</summary>
    public const ushort Arp = 0x0806;
    /// <summary>IEEE 802.1Q VLAN tag (0x8100); also the inner tag of QinQ.</summary>
    public const ushort Vlan = 0x8100;
    /// <summary>IPv6 (0x86DD).</summary>
    public const ushort Ipv6 = 0x86DD;
    /// <summary>IEEE 802.1ad service tag, the outer tag of QinQ (0x88A8).</summary>
    public const ushort Qinq = 0x88A8;
    /// <summary>Pre-standard QinQ outer tag some switches still send (0x9100).</summary>
    public const ushort Qinq9100 = 0x9100;
    /// <summary>MPLS unicast (0x8847).</summary>
    public const ushort Mpls = 0x8847;
    /// <summary>IEEE 1588 precision time protocol (0x88F7).</summary>
    public const ushort Ptp = 0x88F7;
    /// <summary>LLDP (0x88CC).</summary>
    public const ushort Lldp = 0x88CC;

    /// <summary>True for the tag protocol identifiers that start a VLAN tag (0x8100, 0x88A8, 0x9100).</summary>
    public static bool IsVlanTag(ushort etherType) => etherType is Vlan or Qinq or Qinq9100;
}

/// <summary>
/// IP protocol numbers / IPv6 next-header values (IANA "Assigned Internet Protocol Numbers"), as in
/// netinet/in.h's <c>IPPROTO_*</c>.
/// </summary>
public static class IpProtocol
{
    /// <summary>IPv6 hop-by-hop options (0).</summary>
    public const byte HopByHop = 0;
    /// <summary>ICMP (1).</summary>
    public const byte Icmp = 1;
    /// <summary>IGMP (2).</summary>
    public const byte Igmp = 2;
    /// <summary>IPv4 in IP (4).</summary>
    public const byte IpInIp = 4;
    /// <summary>TCP (6).</summary>
    public const byte Tcp = 6;
    /// <summary>UDP (17).</summary>
    public const byte Udp = 17;
    /// <summary>IPv6 in IP (41).</summary>
    public const byte Ipv6 = 41;
    /// <summary>IPv6 routing header (43).</summary>
    public const byte Routing = 43;
    /// <summary>IPv6 fragment header (44).</summary>
    public const byte Fragment = 44;
    /// <summary>GRE (47).</summary>
    public const byte Gre = 47;
    /// <summary>IPsec encapsulating security payload (50); opaque, ends the header walk.</summary>
    public const byte Esp = 50;
    /// <summary>IPsec authentication header (51).</summary>
    public const byte Ah = 51;
    /// <summary>ICMPv6 (58).</summary>
    public const byte Icmpv6 = 58;
    /// <summary>IPv6 "no next header" (59).</summary>
    public const byte NoNextHeader = 59;
    /// <summary>IPv6 destination options (60).</summary>
    public const byte DestinationOptions = 60;
    /// <summary>SCTP (132).</summary>
    public const byte Sctp = 132;
}
