using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using PacketPlane.Memory;

namespace PacketPlane.Net;

/// <summary>
/// Header lengths found by <see cref="PacketParser"/>, as DPDK's <c>struct rte_net_hdr_lens</c>: L2 (Ethernet and
/// VLAN tags), L3 (IPv4 with options, or IPv6 with extension headers) and L4 (UDP 8, TCP with options, SCTP 12;
/// 0 for other protocols and fragments). A layer that was not recognised has length 0.
/// </summary>
/// <param name="L2">Bytes of Ethernet header and VLAN tags.</param>
/// <param name="L3">Bytes of IP header (options and extension headers included).</param>
/// <param name="L4">Bytes of transport header.</param>
public readonly record struct HeaderLengths(int L2, int L3, int L4)
{
    /// <summary>Offset of the L3 header in the frame.</summary>
    public int L3Offset => L2;

    /// <summary>Offset of the L4 header in the frame.</summary>
    public int L4Offset => L2 + L3;

    /// <summary>Offset of the L4 payload in the frame.</summary>
    public int PayloadOffset => L2 + L3 + L4;
}

/// <summary>
/// Software packet-type classification (DPDK's <c>rte_net_get_ptype</c>): Ethernet, up to two VLAN tags, ARP,
/// IPv4, IPv6 with extension headers, then TCP, UDP, SCTP, ICMP, IGMP or fragments. Result values use the
/// RTE_PTYPE layout of <see cref="PacketType"/>.
/// </summary>
/// <remarks>
/// <para>Every length is checked against the bytes present before it is used, so a malformed or truncated frame
/// is classified as the deepest layer that is whole and consistent: shorter than an Ethernet header gives
/// <see cref="PacketType.Unknown"/>; a broken IP header gives only the L2 type; a broken transport header gives
/// L2 and L3. Stricter than DPDK's parser where DPDK trusts a length field: an IPv4 or IPv6 datagram must fit
/// its own length fields, TCP's data offset must be at least 5, and UDP's length field must fit.</para>
/// <para>Differences from rte_net_get_ptype, all toward reporting more: ARP gives
/// <see cref="PacketType.L2EtherArp"/>; ICMP/ICMPv6, IGMP and other protocols give
/// <see cref="PacketType.L4Icmp"/>, <see cref="PacketType.L4Igmp"/> and <see cref="PacketType.L4NonFrag"/>
/// (DPDK leaves the L4 bits 0); IPv6 AH headers are walked; an IPv6 atomic fragment (offset 0, M clear) is not a
/// fragment (RFC 6946). Tunnels and MPLS are not decoded.</para>
/// </remarks>
public static class PacketParser
{
    /// <summary>Bytes copied out of a multi-segment packet for parsing: enough for any header chain this parser follows.</summary>
    public const int MaxHeaderBytes = 256;

    /// <summary>Classifies the frame in <paramref name="frame"/>.</summary>
    public static PacketType Parse(ReadOnlySpan<byte> frame) => Parse(frame, out _);

    /// <summary>Classifies the frame in <paramref name="frame"/> and reports its header lengths.</summary>
    public static PacketType Parse(ReadOnlySpan<byte> frame, out HeaderLengths lengths) =>
        Parse(frame, frame.Length, out lengths);

    /// <summary>
    /// Classifies a packet and stores the type in <see cref="Packet.PacketType"/>. A chained packet whose first
    /// segment is shorter than <see cref="MaxHeaderBytes"/> has its first bytes copied to the stack. Allocates
    /// nothing.
    /// </summary>
    public static PacketType Classify(Packet packet, out HeaderLengths lengths)
    {
        PacketType type;
        if (packet.SegmentCount == 1 || packet.DataLength >= MaxHeaderBytes)
        {
            type = Parse(packet.Data, packet.SegmentCount == 1 ? packet.DataLength : packet.Length, out lengths);
        }
        else
        {
            Span<byte> headers = stackalloc byte[MaxHeaderBytes];
            int n = packet.CopyTo(headers);
            type = Parse(headers[..n], packet.Length, out lengths);
        }
        packet.PacketType = type;
        return type;
    }

    /// <summary>Classifies a packet and stores the type in <see cref="Packet.PacketType"/>.</summary>
    public static PacketType Classify(Packet packet) => Classify(packet, out _);

    /// <summary>
    /// The parser proper. <paramref name="held"/> is the start of the packet (all of it, or a prefix copied out of
    /// a chain); <paramref name="packetLength"/> is the whole packet's length. Reads stay inside
    /// <paramref name="held"/>; length fields are checked against <paramref name="packetLength"/>.
    /// </summary>
    private static PacketType Parse(ReadOnlySpan<byte> held, int packetLength, out HeaderLengths lengths)
    {
        lengths = default;
        if (held.Length < EthernetHeader.Length)
            return PacketType.Unknown;
        int l2 = EthernetHeader.Length;
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(held[12..]);
        PacketType type = PacketType.L2Ether;
        if (EtherType.IsVlanTag(etherType))
        {
            // A truncated tag is not a valid layer: report the layer below it.
            if (!SkipTag(held, ref l2, ref etherType))
            {
                lengths = new HeaderLengths(EthernetHeader.Length, 0, 0);
                return PacketType.L2Ether;
            }
            type = PacketType.L2EtherVlan;
            if (etherType == EtherType.Vlan)
            {
                if (!SkipTag(held, ref l2, ref etherType))
                {
                    lengths = new HeaderLengths(l2 - VlanHeader.Length, 0, 0);
                    return type;
                }
                type = PacketType.L2EtherQinq;
            }
        }
        lengths = new HeaderLengths(l2, 0, 0);
        ReadOnlySpan<byte> l3 = held[l2..];
        int l3Length = packetLength - l2;
        return etherType switch
        {
            EtherType.Ipv4 => type | ParseIpv4(l3, l3Length, l2, ref lengths),
            EtherType.Ipv6 => type | ParseIpv6(l3, l3Length, l2, ref lengths),
            EtherType.Arp when type == PacketType.L2Ether && IsWholeArp(l3) => PacketType.L2EtherArp,
            _ => type,
        };
    }

    private static bool SkipTag(ReadOnlySpan<byte> frame, ref int l2, ref ushort etherType)
    {
        if (frame.Length - l2 < VlanHeader.Length)
            return false;
        etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[(l2 + 2)..]);
        l2 += VlanHeader.Length;
        return true;
    }

    private static bool IsWholeArp(ReadOnlySpan<byte> arp)
    {
        // RFC 826: 8 fixed bytes, then sender and target hardware and protocol addresses.
        if (arp.Length < 8)
            return false;
        int hlen = arp[4], plen = arp[5];
        return arp.Length >= 8 + 2 * (hlen + plen);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static PacketType ParseIpv4(ReadOnlySpan<byte> ip, int ipLength, int l2, ref HeaderLengths lengths)
    {
        if (ip.Length < Ipv4Header.MinLength)
            return PacketType.Unknown;
        byte versionIhl = ip[0];
        int ihl = (versionIhl & 0x0F) * 4;
        int total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (versionIhl >> 4 != 4 || ihl < Ipv4Header.MinLength || total < ihl || total > ipLength || ihl > ip.Length)
            return PacketType.Unknown;
        PacketType type = ihl == Ipv4Header.MinLength ? PacketType.L3Ipv4 : PacketType.L3Ipv4Ext;
        lengths = new HeaderLengths(l2, ihl, 0);
        ushort fragment = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        if ((fragment & (Ipv4Header.FlagMoreFragments | Ipv4Header.FragmentOffsetMask)) != 0)
            return type | PacketType.L4Frag;
        return type | ParseL4(ip[ihl..Math.Min(total, ip.Length)], total - ihl, ip[9], l2, ihl, ref lengths);
    }

    private static PacketType ParseIpv6(ReadOnlySpan<byte> ip, int ipLength, int l2, ref HeaderLengths lengths)
    {
        if (ip.Length < Ipv6Header.Length || ip[0] >> 4 != 6)
            return PacketType.Unknown;
        int end = Ipv6Header.Length + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        if (end > ipLength)
            return PacketType.Unknown;
        int heldEnd = Math.Min(end, ip.Length);
        byte next = ip[6];
        lengths = new HeaderLengths(l2, Ipv6Header.Length, 0);
        if (!Ipv6Extensions.IsExtension(next) && next != IpProtocol.Esp)
            return PacketType.L3Ipv6 | ParseL4(ip[Ipv6Header.Length..heldEnd], end - Ipv6Header.Length, next, l2, Ipv6Header.Length, ref lengths);
        // As DPDK: the L3 type says "with extensions" even when the chain turns out to be broken.
        if (!Ipv6Extensions.TryWalk(ip[Ipv6Header.Length..heldEnd], next, out Ipv6Extensions ext))
            return PacketType.L3Ipv6Ext;
        int l3 = Ipv6Header.Length + ext.Length;
        lengths = new HeaderLengths(l2, l3, 0);
        if (ext.IsFragment)
            return PacketType.L3Ipv6Ext | PacketType.L4Frag;
        return PacketType.L3Ipv6Ext | ParseL4(ip[l3..heldEnd], end - l3, ext.UpperLayerProtocol, l2, l3, ref lengths);
    }

    /// <summary>
    /// The L4 type of an IP payload of <paramref name="segmentLength"/> bytes, of which <paramref name="segment"/>
    /// are held; 0 when its header is broken.
    /// </summary>
    private static PacketType ParseL4(ReadOnlySpan<byte> segment, int segmentLength, byte protocol, int l2, int l3, ref HeaderLengths lengths)
    {
        switch (protocol)
        {
            case IpProtocol.Udp:
                if (segment.Length < UdpHeader.Length)
                    return PacketType.Unknown;
                int udpLength = BinaryPrimitives.ReadUInt16BigEndian(segment[4..]);
                if (udpLength < UdpHeader.Length || udpLength > segmentLength)
                    return PacketType.Unknown;
                lengths = new HeaderLengths(l2, l3, UdpHeader.Length);
                return PacketType.L4Udp;
            case IpProtocol.Tcp:
                if (segment.Length < TcpHeader.MinLength)
                    return PacketType.Unknown;
                int tcpLength = (segment[12] >> 4) * 4;
                if (tcpLength < TcpHeader.MinLength || tcpLength > segmentLength)
                    return PacketType.Unknown;
                lengths = new HeaderLengths(l2, l3, tcpLength);
                return PacketType.L4Tcp;
            case IpProtocol.Sctp:
                // RFC 9260 section 3.1: 12-byte common header.
                if (segment.Length < 12)
                    return PacketType.Unknown;
                lengths = new HeaderLengths(l2, l3, 12);
                return PacketType.L4Sctp;
            case IpProtocol.Icmp:
            case IpProtocol.Icmpv6:
                // Type, code, checksum and the 4-byte rest of header (RFC 792, RFC 4443 section 2.1).
                return segment.Length >= 8 ? PacketType.L4Icmp : PacketType.Unknown;
            case IpProtocol.Igmp:
                return segment.Length >= 8 ? PacketType.L4Igmp : PacketType.Unknown;
            case IpProtocol.NoNextHeader:
            case IpProtocol.Esp:
            default:
                return PacketType.L4NonFrag;
        }
    }
}
