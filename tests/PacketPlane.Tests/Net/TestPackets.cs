using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Net;
using PacketPlane.Net;

namespace PacketPlane.Tests.Net;

/// <summary>Hand-built frames for parser tests (each layer written with the header writers).</summary>
internal static class TestPackets
{
    public static readonly IPAddress V6Src = IPAddress.Parse("2001:db8::1");
    public static readonly IPAddress V6Dst = IPAddress.Parse("2001:db8::2");

    public static byte[] Udp4(int frameLength = 64) => new UdpFrame { FrameLength = frameLength }.ToArray();

    public static byte[] Udp6(int frameLength = 100) =>
        new UdpFrame { SourceAddress = V6Src, DestinationAddress = V6Dst, FrameLength = frameLength }.ToArray();

    /// <summary>Ethernet (optionally tagged) + IPv4 (optionally with options) + TCP (optionally with options) + payload.</summary>
    public static byte[] Tcp4(int ipOptionBytes = 0, int tcpOptionBytes = 0, int payload = 10, ushort[]? vlanTags = null)
    {
        int tcpLength = TcpHeader.MinLength + tcpOptionBytes;
        int ipHeader = Ipv4Header.MinLength + ipOptionBytes;
        var bytes = new List<byte>();
        byte[] l2 = L2(EtherType.Ipv4, vlanTags);
        byte[] ip = new byte[ipHeader + tcpLength + payload];
        Ipv4Header.Write(ip, 0x0A630001, 0x0A630002, IpProtocol.Tcp, tcpLength + payload + ipOptionBytes);
        ip[0] = (byte)(0x40 | (ipHeader / 4));
        for (int i = 0; i < ipOptionBytes; i++)
            ip[Ipv4Header.MinLength + i] = 1; // NOP options
        var h = new Ipv4Header(ip);
        h.UpdateChecksum();
        Span<byte> tcp = ip.AsSpan(ipHeader);
        TcpHeader.Write(tcp, 1234, 80, 1, 2, TcpHeader.FlagAck);
        tcp[12] = (byte)((tcpLength / 4) << 4);
        for (int i = 0; i < tcpOptionBytes; i++)
            tcp[TcpHeader.MinLength + i] = 1;
        new TcpHeader(tcp).UpdateChecksum(h);
        bytes.AddRange(l2);
        bytes.AddRange(ip);
        return bytes.ToArray();
    }

    /// <summary>Ethernet + IPv6 + the given extension headers (type, total length) + the upper layer.</summary>
    public static byte[] Ipv6WithExtensions((byte Type, int Length)[] extensions, byte upper, int upperLength,
        ushort fragmentOffsetWord = 0)
    {
        int extLength = 0;
        foreach ((byte _, int len) in extensions)
            extLength += len;
        byte[] frame = new byte[14 + 40 + extLength + upperLength];
        EthernetHeader.Write(frame, UdpFrame.DefaultDestinationMac, UdpFrame.DefaultSourceMac, EtherType.Ipv6);
        Span<byte> src = stackalloc byte[16], dst = stackalloc byte[16];
        V6Src.TryWriteBytes(src, out _);
        V6Dst.TryWriteBytes(dst, out _);
        byte first = extensions.Length > 0 ? extensions[0].Type : upper;
        Ipv6Header.Write(frame.AsSpan(14), src, dst, first, extLength + upperLength);
        int offset = 54;
        for (int i = 0; i < extensions.Length; i++)
        {
            (byte type, int len) = extensions[i];
            byte next = i + 1 < extensions.Length ? extensions[i + 1].Type : upper;
            frame[offset] = next;
            frame[offset + 1] = type switch
            {
                IpProtocol.Fragment => 0,
                IpProtocol.Ah => (byte)(len / 4 - 2),
                _ => (byte)(len / 8 - 1),
            };
            if (type == IpProtocol.Fragment)
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset + 2), fragmentOffsetWord);
            offset += len;
        }
        Span<byte> l4 = frame.AsSpan(offset);
        if (upper == IpProtocol.Udp && upperLength >= 8)
            UdpHeader.Write(l4, 7, 8, upperLength - 8);
        if (upper == IpProtocol.Tcp && upperLength >= 20)
            TcpHeader.Write(l4, 7, 8, 0, 0, TcpHeader.FlagSyn);
        return frame;
    }

    public static byte[] Arp()
    {
        byte[] frame = new byte[60];
        EthernetHeader.Write(frame, MacAddress.Broadcast, UdpFrame.DefaultSourceMac, EtherType.Arp);
        ArpHeader.Write(frame.AsSpan(14), ArpHeader.OperationRequest, UdpFrame.DefaultSourceMac, 0x0A630001, MacAddress.Zero, 0x0A630002);
        return frame;
    }

    public static byte[] Ipv4Protocol(byte protocol, int payload)
    {
        byte[] frame = new byte[14 + 20 + payload];
        EthernetHeader.Write(frame, UdpFrame.DefaultDestinationMac, UdpFrame.DefaultSourceMac, EtherType.Ipv4);
        Ipv4Header.Write(frame.AsSpan(14), 1, 2, protocol, payload);
        return frame;
    }

    public static byte[] L2(ushort etherType, ushort[]? vlanTags)
    {
        var l2 = new List<byte>();
        byte[] eth = new byte[14];
        ushort first = vlanTags is { Length: > 0 } ? (vlanTags.Length == 2 ? EtherType.Qinq : EtherType.Vlan) : etherType;
        EthernetHeader.Write(eth, UdpFrame.DefaultDestinationMac, UdpFrame.DefaultSourceMac, first);
        l2.AddRange(eth);
        if (vlanTags is not null)
        {
            for (int i = 0; i < vlanTags.Length; i++)
            {
                ushort inner = i + 1 < vlanTags.Length ? EtherType.Vlan : etherType;
                l2.Add((byte)(vlanTags[i] >> 8));
                l2.Add((byte)vlanTags[i]);
                l2.Add((byte)(inner >> 8));
                l2.Add((byte)inner);
            }
        }
        return l2.ToArray();
    }
}
