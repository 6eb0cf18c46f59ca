using System;
using System.Buffers.Binary;
using PacketPlane.Memory;
using PacketPlane.Net;
using Xunit;

namespace PacketPlane.Tests.Net;

public class PacketParserTests
{
    private const PacketType Udp4 = PacketType.L2Ether | PacketType.L3Ipv4 | PacketType.L4Udp;

    [Fact]
    public void Ipv4_udp_is_classified_with_lengths()
    {
        Assert.Equal(Udp4, PacketParser.Parse(TestPackets.Udp4(), out HeaderLengths l));
        Assert.Equal(new HeaderLengths(14, 20, 8), l);
        Assert.Equal(42, l.PayloadOffset);
    }

    [Fact]
    public void Ipv4_tcp_with_ip_and_tcp_options_reports_both_lengths()
    {
        PacketType t = PacketParser.Parse(TestPackets.Tcp4(ipOptionBytes: 8, tcpOptionBytes: 12), out HeaderLengths l);
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv4Ext | PacketType.L4Tcp, t);
        Assert.Equal(new HeaderLengths(14, 28, 32), l);
    }

    [Fact]
    public void Vlan_and_qinq_tags_are_counted_in_l2()
    {
        Assert.Equal(PacketType.L2EtherVlan | PacketType.L3Ipv4 | PacketType.L4Tcp,
            PacketParser.Parse(TestPackets.Tcp4(vlanTags: [100]), out HeaderLengths l1));
        Assert.Equal(18, l1.L2);
        Assert.Equal(PacketType.L2EtherQinq | PacketType.L3Ipv4 | PacketType.L4Tcp,
            PacketParser.Parse(TestPackets.Tcp4(vlanTags: [100, 200]), out HeaderLengths l2));
        Assert.Equal(22, l2.L2);
        byte[] tagged = new UdpFrame { VlanTci = 0x2005 }.ToArray();
        Assert.Equal(PacketType.L2EtherVlan | PacketType.L3Ipv4 | PacketType.L4Udp, PacketParser.Parse(tagged));
    }

    [Fact]
    public void Ipv6_udp_without_extensions()
    {
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv6 | PacketType.L4Udp, PacketParser.Parse(TestPackets.Udp6(), out HeaderLengths l));
        Assert.Equal(new HeaderLengths(14, 40, 8), l);
    }

    [Theory]
    [InlineData(IpProtocol.HopByHop, 8)]
    [InlineData(IpProtocol.HopByHop, 24)]
    [InlineData(IpProtocol.Routing, 24)]
    [InlineData(IpProtocol.DestinationOptions, 16)]
    [InlineData(IpProtocol.Ah, 24)]
    [InlineData(IpProtocol.Fragment, 8)]
    public void Ipv6_each_extension_header_is_walked_to_tcp(byte type, int length)
    {
        byte[] frame = TestPackets.Ipv6WithExtensions([(type, length)], IpProtocol.Tcp, 20);
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv6Ext | PacketType.L4Tcp, PacketParser.Parse(frame, out HeaderLengths l));
        Assert.Equal(new HeaderLengths(14, 40 + length, 20), l);
    }

    [Fact]
    public void Ipv6_chain_of_all_extension_kinds_reaches_udp()
    {
        byte[] frame = TestPackets.Ipv6WithExtensions(
            [(IpProtocol.HopByHop, 8), (IpProtocol.DestinationOptions, 8), (IpProtocol.Routing, 24), (IpProtocol.Fragment, 8), (IpProtocol.Ah, 16), (IpProtocol.DestinationOptions, 8)],
            IpProtocol.Udp, 16);
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv6Ext | PacketType.L4Udp, PacketParser.Parse(frame, out HeaderLengths l));
        Assert.Equal(40 + 72, l.L3);
        Assert.Equal(8, l.L4);
    }

    [Fact]
    public void Ipv6_fragments_are_l4_frag_but_an_atomic_fragment_is_not()
    {
        // Offset 1 (8 bytes) and M set: a real fragment.
        byte[] real = TestPackets.Ipv6WithExtensions([(IpProtocol.Fragment, 8)], IpProtocol.Udp, 16, fragmentOffsetWord: (1 << 3) | 1);
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv6Ext | PacketType.L4Frag, PacketParser.Parse(real, out HeaderLengths l));
        Assert.Equal(0, l.L4);
        byte[] first = TestPackets.Ipv6WithExtensions([(IpProtocol.Fragment, 8)], IpProtocol.Udp, 16, fragmentOffsetWord: 1);
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv6Ext | PacketType.L4Frag, PacketParser.Parse(first));
        byte[] atomic = TestPackets.Ipv6WithExtensions([(IpProtocol.Fragment, 8)], IpProtocol.Udp, 16, fragmentOffsetWord: 0);
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv6Ext | PacketType.L4Udp, PacketParser.Parse(atomic));
    }

    [Fact]
    public void Ipv4_fragments_are_l4_frag()
    {
        byte[] frame = TestPackets.Udp4(100);
        var ip = new Ipv4Header(frame.AsSpan(14));
        ip.FlagsAndFragmentOffset = Ipv4Header.FlagMoreFragments;
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv4 | PacketType.L4Frag, PacketParser.Parse(frame));
        ip.FlagsAndFragmentOffset = 10;
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv4 | PacketType.L4Frag, PacketParser.Parse(frame));
        ip.FlagsAndFragmentOffset = Ipv4Header.FlagDontFragment;
        Assert.Equal(Udp4, PacketParser.Parse(frame));
    }

    [Fact]
    public void Arp_icmp_igmp_sctp_and_other_protocols()
    {
        Assert.Equal(PacketType.L2EtherArp, PacketParser.Parse(TestPackets.Arp()));
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv4 | PacketType.L4Icmp, PacketParser.Parse(TestPackets.Ipv4Protocol(IpProtocol.Icmp, 8)));
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv4 | PacketType.L4Igmp, PacketParser.Parse(TestPackets.Ipv4Protocol(IpProtocol.Igmp, 8)));
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv4 | PacketType.L4Sctp, PacketParser.Parse(TestPackets.Ipv4Protocol(IpProtocol.Sctp, 12), out HeaderLengths l));
        Assert.Equal(12, l.L4);
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv4 | PacketType.L4NonFrag, PacketParser.Parse(TestPackets.Ipv4Protocol(IpProtocol.Gre, 4)));
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv6 | PacketType.L4Icmp,
            PacketParser.Parse(TestPackets.Ipv6WithExtensions([], IpProtocol.Icmpv6, 8)));
    }

    [Fact]
    public void Broken_ip_headers_fall_back_to_l2()
    {
        byte[] frame = TestPackets.Udp4(100);
        frame[14] = 0x44; // IHL 4
        Assert.Equal(PacketType.L2Ether, PacketParser.Parse(frame));
        frame = TestPackets.Udp4(100);
        frame[14] = 0x65; // version 6 in an IPv4 EtherType
        Assert.Equal(PacketType.L2Ether, PacketParser.Parse(frame));
        frame = TestPackets.Udp4(100);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), 200); // total length past the frame
        Assert.Equal(PacketType.L2Ether, PacketParser.Parse(frame, out HeaderLengths l));
        Assert.Equal(new HeaderLengths(14, 0, 0), l);
        frame = TestPackets.Udp4(100);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), 19); // total length shorter than the header
        Assert.Equal(PacketType.L2Ether, PacketParser.Parse(frame));
    }

    [Fact]
    public void Broken_l4_headers_keep_l2_and_l3()
    {
        byte[] frame = TestPackets.Udp4(100);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(38), 7); // UDP length below 8
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv4, PacketParser.Parse(frame, out HeaderLengths l));
        Assert.Equal(new HeaderLengths(14, 20, 0), l);
        frame = TestPackets.Tcp4();
        frame[14 + 20 + 12] = 0x40; // data offset 4
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv4, PacketParser.Parse(frame));
        frame = TestPackets.Tcp4(payload: 0);
        frame[14 + 20 + 12] = 0xF0; // 60-byte header in a 20-byte segment
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv4, PacketParser.Parse(frame));
    }

    [Fact]
    public void Ethernet_padding_after_the_ip_datagram_is_ignored()
    {
        // A 60-byte minimum frame carrying a 46-byte datagram has zero padding after it.
        byte[] frame = new UdpFrame { Payload = new byte[4] }.ToArray();
        Assert.Equal(60, frame.Length);
        Assert.Equal(Udp4, PacketParser.Parse(frame));
        Assert.Equal(32, new Ipv4Header(frame.AsSpan(14)).Payload.Length + 20);
    }

    [Theory]
    [InlineData(20, 100)]
    [InlineData(20, 1400)]
    [InlineData(300, 1400)]
    [InlineData(60, 64)]
    public void Classify_reads_headers_across_segments_and_stores_the_type(int firstSegment, int frameLength)
    {
        byte[] frame = TestPackets.Udp6(frameLength);
        using MbufPool pool = MbufPool.Create("parse_chain", 8, cacheSize: 0);
        Packet head = pool.Alloc(), tail = pool.Alloc();
        head.TryAppend(firstSegment);
        tail.TryAppend(frameLength - firstSegment);
        frame.AsSpan(0, firstSegment).CopyTo(head.Data);
        frame.AsSpan(firstSegment).CopyTo(tail.Data);
        Assert.True(head.TryChain(tail));
        PacketType expected = PacketParser.Parse(frame, out HeaderLengths lengths);
        Assert.Equal(expected, PacketParser.Classify(head, out HeaderLengths chained));
        Assert.Equal(lengths, chained);
        Assert.Equal(expected, head.PacketType);
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv6 | PacketType.L4Udp, expected);
        head.Free();
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void A_frame_shorter_than_ethernet_is_unknown()
    {
        for (int n = 0; n < 14; n++)
            Assert.Equal(PacketType.Unknown, PacketParser.Parse(new byte[n]));
    }

    [Fact]
    public void Every_truncation_of_valid_frames_gives_a_prefix_of_the_full_classification()
    {
        byte[][] frames =
        [
            TestPackets.Udp4(128), TestPackets.Udp6(128), TestPackets.Tcp4(8, 12, 30, [5, 6]),
            TestPackets.Ipv6WithExtensions([(IpProtocol.HopByHop, 8), (IpProtocol.Ah, 16)], IpProtocol.Tcp, 40), TestPackets.Arp(),
        ];
        foreach (byte[] frame in frames)
        {
            PacketType full = PacketParser.Parse(frame, out HeaderLengths fullLengths);
            for (int n = 0; n <= frame.Length; n++)
            {
                PacketType t = PacketParser.Parse(frame.AsSpan(0, n), out HeaderLengths l);
                // Each layer is either what the whole frame has, or absent.
                // L2 may stop short: plain Ethernet below any tag or ARP, one tag below QinQ.
                PacketType l2 = t & PacketType.L2Mask, fullL2 = full & PacketType.L2Mask;
                Assert.True(l2 == 0 || l2 == fullL2 || l2 == PacketType.L2Ether || (l2 == PacketType.L2EtherVlan && fullL2 == PacketType.L2EtherQinq), $"{t} vs {full} at {n}");
                Assert.True((t & PacketType.L3Mask) == 0 || (t & PacketType.L3Mask) == (full & PacketType.L3Mask));
                Assert.True((t & PacketType.L4Mask) == 0 || (t & PacketType.L4Mask) == (full & PacketType.L4Mask));
                Assert.True(l.PayloadOffset <= n, $"lengths {l} exceed the {n} bytes given");
                if (n == frame.Length)
                    Assert.Equal(fullLengths, l);
            }
        }
    }

    [Fact]
    public void Random_bytes_never_throw_and_never_claim_more_than_they_have()
    {
        var random = new Random(2024);
        byte[] buffer = new byte[256];
        for (int i = 0; i < 300_000; i++)
        {
            int n = random.Next(0, buffer.Length + 1);
            random.NextBytes(buffer.AsSpan(0, n));
            // Bias towards the interesting paths: real EtherTypes and IP versions.
            if (n > 14 && i % 2 == 0)
            {
                ushort[] types = [EtherType.Ipv4, EtherType.Ipv6, EtherType.Vlan, EtherType.Qinq, EtherType.Arp];
                BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(12), types[random.Next(types.Length)]);
                if (buffer[12] == 0x08 && buffer[13] == 0x00)
                    buffer[14] = (byte)(0x40 | (buffer[14] & 0x0F));
                if (buffer[12] == 0x86)
                    buffer[14] = (byte)(0x60 | (buffer[14] & 0x0F));
            }
            PacketType t = PacketParser.Parse(buffer.AsSpan(0, n), out HeaderLengths l);
            Assert.True(l.PayloadOffset <= n);
            Assert.True(t == PacketType.Unknown ? n < 14 : (t & PacketType.L2Mask) != 0);
        }
    }

    [Fact]
    public void Random_mutations_of_valid_frames_never_throw()
    {
        var random = new Random(77);
        byte[][] seeds =
        [
            TestPackets.Udp4(128), TestPackets.Udp6(128), TestPackets.Tcp4(8, 12, 30, [5]),
            TestPackets.Ipv6WithExtensions([(IpProtocol.HopByHop, 8), (IpProtocol.Routing, 24), (IpProtocol.Fragment, 8)], IpProtocol.Tcp, 40),
        ];
        foreach (byte[] seed in seeds)
        {
            byte[] frame = new byte[seed.Length];
            for (int i = 0; i < 50_000; i++)
            {
                seed.CopyTo(frame, 0);
                int flips = random.Next(1, 4);
                for (int f = 0; f < flips; f++)
                    frame[random.Next(frame.Length)] = (byte)random.Next(256);
                int n = random.Next(0, frame.Length + 1);
                PacketParser.Parse(frame.AsSpan(0, n), out HeaderLengths l);
                Assert.True(l.PayloadOffset <= n);
            }
        }
    }
}
