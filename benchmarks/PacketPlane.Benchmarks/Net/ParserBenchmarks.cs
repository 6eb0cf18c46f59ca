using System;
using System.Buffers.Binary;
using System.Net;
using BenchmarkDotNet.Attributes;
using PacketPlane.Net;

namespace PacketPlane.Benchmarks.Net;

/// <summary>Software packet-type classification (rte_net_get_ptype equivalent) per frame kind.</summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    private readonly byte[] _udp4 = new UdpFrame { FrameLength = 64 }.ToArray();
    private readonly byte[] _qinqUdp4 = QinQ(new UdpFrame { FrameLength = 64, VlanTci = 10 }.ToArray());
    private readonly byte[] _udp6 = new UdpFrame
    {
        SourceAddress = IPAddress.Parse("fd00::1"),
        DestinationAddress = IPAddress.Parse("fd00::2"),
        FrameLength = 80,
    }.ToArray();
    private readonly byte[] _ipv6ExtChain = Ipv6WithExtensions();
    private readonly byte[] _garbage = Garbage();

    [Benchmark(Baseline = true)]
    public PacketType Ipv4Udp() => PacketParser.Parse(_udp4, out _);

    [Benchmark]
    public PacketType QinqIpv4Udp() => PacketParser.Parse(_qinqUdp4, out _);

    [Benchmark]
    public PacketType Ipv6Udp() => PacketParser.Parse(_udp6, out _);

    [Benchmark]
    public PacketType Ipv6ThreeExtensionHeadersTcp() => PacketParser.Parse(_ipv6ExtChain, out _);

    [Benchmark]
    public PacketType RandomBytes() => PacketParser.Parse(_garbage, out _);

    private static byte[] QinQ(byte[] tagged)
    {
        // Insert an outer 802.1ad tag in front of the 802.1Q one.
        byte[] frame = new byte[tagged.Length + 4];
        tagged.AsSpan(0, 12).CopyTo(frame);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), EtherType.Qinq);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), 20);
        tagged.AsSpan(12).CopyTo(frame.AsSpan(16));
        return frame;
    }

    private static byte[] Ipv6WithExtensions()
    {
        // Hop-by-hop (8), destination options (8), routing (24), then a 20-byte TCP header and 20 bytes.
        byte[] frame = new byte[14 + 40 + 40 + 40];
        EthernetHeader.Write(frame, UdpFrame.DefaultDestinationMac, UdpFrame.DefaultSourceMac, EtherType.Ipv6);
        byte[] a = new byte[16];
        a[15] = 1;
        Ipv6Header.Write(frame.AsSpan(14), a, a, IpProtocol.HopByHop, 80);
        int o = 54;
        frame[o] = IpProtocol.DestinationOptions; frame[o + 1] = 0; o += 8;
        frame[o] = IpProtocol.Routing; frame[o + 1] = 0; o += 8;
        frame[o] = IpProtocol.Tcp; frame[o + 1] = 2; o += 24;
        TcpHeader.Write(frame.AsSpan(o), 1, 2, 3, 4, TcpHeader.FlagAck);
        return frame;
    }

    private static byte[] Garbage()
    {
        byte[] b = new byte[128];
        new Random(3).NextBytes(b);
        return b;
    }
}
