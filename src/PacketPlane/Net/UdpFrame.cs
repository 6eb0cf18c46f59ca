using System;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using PacketPlane.Memory;

namespace PacketPlane.Net;

/// <summary>
/// Describes an Ethernet / [802.1Q] / IPv4 or IPv6 / UDP frame and writes it with correct lengths and checksums:
/// the traffic generator of TestPmd's txonly mode, and the frame factory of tests and benchmarks.
/// </summary>
/// <remarks>
/// <para>Defaults follow DPDK testpmd's txonly: 198.18.0.1 to 198.18.0.2 (RFC 2544's benchmarking range), UDP port 9
/// to 9, TTL 64, a 64-byte frame. Unlike txonly, the UDP checksum is computed (set
/// <see cref="ComputeUdpChecksum"/> to false for txonly's zero).</para>
/// <para>The payload is <see cref="Payload"/> when given, else the counting pattern 0, 1, 2, ... filling the frame.
/// With an explicit payload shorter than <see cref="FrameLength"/>, the rest of the frame is zero Ethernet padding
/// that the IP and UDP lengths do not count (as a 60-byte minimum frame carries).</para>
/// <para>Frames are FCS-less, as DPDK mbufs hold them: FrameLength 64 is a 68-byte frame on the wire.</para>
/// <para>For many identical frames build a <see cref="FrameTemplate"/> once with <see cref="ToTemplate"/> and
/// stamp packets from it: a copy per packet, nothing allocated.</para>
/// </remarks>
/// <example><code>
/// var frame = new UdpFrame { FrameLength = 128, DestinationAddress = IPAddress.Parse("10.99.1.1"), DestinationPort = 4789 };
/// frame.TryWriteTo(packet);                 // one packet
/// FrameTemplate t = frame.ToTemplate();     // or a template for bursts
/// t.WriteTo(burst);
/// </code></example>
public sealed record UdpFrame
{
    /// <summary>Default source MAC (locally administered).</summary>
    public static readonly MacAddress DefaultSourceMac = new(0x0200_0000_0001UL);

    /// <summary>Default destination MAC (locally administered).</summary>
    public static readonly MacAddress DefaultDestinationMac = new(0x0200_0000_0002UL);

    /// <summary>Source MAC address.</summary>
    public MacAddress Source { get; init; } = DefaultSourceMac;

    /// <summary>Destination MAC address.</summary>
    public MacAddress Destination { get; init; } = DefaultDestinationMac;

    /// <summary>An 802.1Q tag to insert (TCI: priority, DEI, VLAN id), or null for an untagged frame.</summary>
    public ushort? VlanTci { get; init; }

    /// <summary>Source IP address; IPv4 or IPv6, the same family as <see cref="DestinationAddress"/>.</summary>
    public IPAddress SourceAddress { get; init; } = IPAddress.Parse("198.18.0.1");

    /// <summary>Destination IP address.</summary>
    public IPAddress DestinationAddress { get; init; } = IPAddress.Parse("198.18.0.2");

    /// <summary>UDP source port.</summary>
    public ushort SourcePort { get; init; } = 9;

    /// <summary>UDP destination port.</summary>
    public ushort DestinationPort { get; init; } = 9;

    /// <summary>IPv4 TTL or IPv6 hop limit.</summary>
    public byte TimeToLive { get; init; } = 64;

    /// <summary>IPv4 identification.</summary>
    public ushort Identification { get; init; }

    /// <summary>IPv4 type of service / IPv6 traffic class.</summary>
    public byte TypeOfService { get; init; }

    /// <summary>Frame length without FCS; null for headers plus payload (at least 60 bytes).</summary>
    public int? FrameLength { get; init; }

    /// <summary>UDP payload; empty to fill the frame with the counting pattern.</summary>
    public ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>Compute the UDP checksum over IPv4 (IPv6 always has one, RFC 8200 section 8.1). Default true.</summary>
    public bool ComputeUdpChecksum { get; init; } = true;

    /// <summary>True when the addresses are IPv6.</summary>
    public bool IsIpv6 => DestinationAddress.AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>Bytes of Ethernet, VLAN, IP and UDP headers.</summary>
    public int HeaderLength => EthernetHeader.Length + (VlanTci is null ? 0 : 4)
        + (IsIpv6 ? Ipv6Header.Length : Ipv4Header.MinLength) + UdpHeader.Length;

    /// <summary>The length of the frame <see cref="WriteTo"/> writes.</summary>
    public int Length => FrameLength ?? Math.Max(EthernetHeader.MinFrameLength, HeaderLength + Payload.Length);

    /// <summary>Bytes of UDP payload in the frame.</summary>
    public int PayloadLength => Payload.IsEmpty ? Length - HeaderLength : Payload.Length;

    /// <summary>
    /// Writes the frame at the start of <paramref name="destination"/> and returns its length.
    /// </summary>
    /// <exception cref="ArgumentException">The description is inconsistent (the message says how), or the destination is too small.</exception>
    public int WriteTo(Span<byte> destination)
    {
        Validate();
        int length = Length;
        if (destination.Length < length)
            throw new ArgumentException($"the frame is {length} bytes but the destination holds {destination.Length}", nameof(destination));
        Span<byte> frame = destination[..length];
        int payloadLength = PayloadLength;
        int offset = WriteL2(frame);
        int l3 = offset;
        offset += IsIpv6 ? Ipv6Header.Length : Ipv4Header.MinLength;
        int l4 = offset;
        Span<byte> payload = frame.Slice(l4 + UdpHeader.Length, payloadLength);
        FillPayload(payload);
        frame[(l4 + UdpHeader.Length + payloadLength)..].Clear();
        UdpHeader.Write(frame[l4..], SourcePort, DestinationPort, payloadLength);
        var udp = new UdpHeader(frame.Slice(l4, UdpHeader.Length + payloadLength));
        if (IsIpv6)
        {
            Span<byte> src = stackalloc byte[16], dst = stackalloc byte[16];
            SourceAddress.TryWriteBytes(src, out _);
            DestinationAddress.TryWriteBytes(dst, out _);
            Ipv6Header.Write(frame[l3..], src, dst, IpProtocol.Udp, UdpHeader.Length + payloadLength, TimeToLive, TypeOfService);
            udp.UpdateChecksum(new Ipv6Header(frame[l3..]));
        }
        else
        {
            Ipv4Header.Write(frame[l3..], ToUInt32(SourceAddress), ToUInt32(DestinationAddress), IpProtocol.Udp,
                UdpHeader.Length + payloadLength, TimeToLive, Identification, 0, TypeOfService);
            if (ComputeUdpChecksum)
                udp.UpdateChecksum(new Ipv4Header(frame[l3..]));
        }
        return length;
    }

    /// <summary>The frame as a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>
    /// Writes the frame into a single-segment packet, replacing its data (length set to the frame's). False, with
    /// the packet unchanged, when the buffer is too small or the packet is chained.
    /// </summary>
    public bool TryWriteTo(Packet packet)
    {
        Validate();
        if (!packet.TrySetLength(Length))
            return false;
        WriteTo(packet.Data);
        return true;
    }

    /// <summary>A template that stamps this frame into packets without re-deriving anything.</summary>
    public FrameTemplate ToTemplate()
    {
        byte[] bytes = ToArray();
        int l4 = EthernetHeader.Length + (VlanTci is null ? 0 : 4) + (IsIpv6 ? Ipv6Header.Length : Ipv4Header.MinLength);
        bool hasChecksum = IsIpv6 || ComputeUdpChecksum;
        return new FrameTemplate(bytes, l4, hasChecksum);
    }

    /// <summary>Throws when the description cannot be written, saying what to change.</summary>
    public void Validate()
    {
        if (SourceAddress.AddressFamily != DestinationAddress.AddressFamily)
            throw new ArgumentException($"source {SourceAddress} and destination {DestinationAddress} are of different address families; use two IPv4 or two IPv6 addresses");
        if (SourceAddress.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new ArgumentException($"{SourceAddress} is neither IPv4 nor IPv6");
        int minimum = HeaderLength + Payload.Length;
        if (FrameLength is int f && f < minimum)
            throw new ArgumentException($"FrameLength {f} is too small: the headers take {HeaderLength} bytes" +
                (Payload.IsEmpty ? "" : $" and the payload {Payload.Length}") + $"; use at least {minimum}");
        int ipPayload = UdpHeader.Length + PayloadLength;
        int ipLimit = IsIpv6 ? ushort.MaxValue : ushort.MaxValue - Ipv4Header.MinLength;
        if (ipPayload > ipLimit)
            throw new ArgumentException($"the UDP datagram would be {ipPayload} bytes; at most {ipLimit} fit an IP{(IsIpv6 ? "v6" : "v4")} packet");
    }

    private int WriteL2(Span<byte> frame)
    {
        ushort ipType = IsIpv6 ? EtherType.Ipv6 : EtherType.Ipv4;
        if (VlanTci is ushort tci)
        {
            EthernetHeader.Write(frame, Destination, Source, EtherType.Vlan);
            BinaryPrimitives.WriteUInt16BigEndian(frame[14..], tci);
            BinaryPrimitives.WriteUInt16BigEndian(frame[16..], ipType);
            return EthernetHeader.Length + 4;
        }
        EthernetHeader.Write(frame, Destination, Source, ipType);
        return EthernetHeader.Length;
    }

    private void FillPayload(Span<byte> payload)
    {
        if (!Payload.IsEmpty)
        {
            Payload.Span.CopyTo(payload);
            return;
        }
        for (int i = 0; i < payload.Length; i++)
            payload[i] = (byte)i;
    }

    private static uint ToUInt32(IPAddress address)
    {
        Span<byte> b = stackalloc byte[4];
        address.TryWriteBytes(b, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(b);
    }
}

/// <summary>
/// A ready-made frame (from <see cref="UdpFrame.ToTemplate"/>) stamped into packets by copying: the txonly fast
/// path. Allocates nothing per packet.
/// </summary>
public sealed class FrameTemplate
{
    private readonly byte[] _bytes;
    private readonly int _udpOffset;
    private readonly bool _hasUdpChecksum;

    internal FrameTemplate(byte[] bytes, int udpOffset, bool hasUdpChecksum)
    {
        _bytes = bytes;
        _udpOffset = udpOffset;
        _hasUdpChecksum = hasUdpChecksum;
    }

    /// <summary>Frame length.</summary>
    public int Length => _bytes.Length;

    /// <summary>The frame's bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Writes the frame into a single-segment packet; false when it does not fit.</summary>
    public bool TryWriteTo(Packet packet)
    {
        if (!packet.TrySetLength(_bytes.Length))
            return false;
        _bytes.CopyTo(packet.Data);
        return true;
    }

    /// <summary>
    /// Writes the frame with a different UDP source port, adjusting the UDP checksum incrementally (RFC 1624):
    /// distinct flows for RSS from one template.
    /// </summary>
    public bool TryWriteTo(Packet packet, ushort udpSourcePort)
    {
        if (!TryWriteTo(packet))
            return false;
        Span<byte> udp = packet.Data[_udpOffset..];
        ushort old = BinaryPrimitives.ReadUInt16BigEndian(udp);
        BinaryPrimitives.WriteUInt16BigEndian(udp, udpSourcePort);
        if (_hasUdpChecksum)
        {
            ushort c = Checksum.Adjust(BinaryPrimitives.ReadUInt16BigEndian(udp[6..]), old, udpSourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(udp[6..], c == 0 ? (ushort)0xFFFF : c);
        }
        return true;
    }

    /// <summary>Writes the frame into each packet in order; returns how many were written (stops at the first that does not fit).</summary>
    public int WriteTo(ReadOnlySpan<Packet> packets)
    {
        for (int i = 0; i < packets.Length; i++)
        {
            if (!TryWriteTo(packets[i]))
                return i;
        }
        return packets.Length;
    }
}
