using System;
using System.Net;
using PacketPlane.Memory;
using PacketPlane.Net;
using Xunit;

namespace PacketPlane.Tests.Net;

public class UdpFrameTests
{
    [Theory]
    [InlineData(60)]
    [InlineData(64)]
    [InlineData(1514)]
    [InlineData(9000)]
    public void Ipv4_frames_of_any_size_parse_with_valid_checksums(int size)
    {
        byte[] frame = new UdpFrame { FrameLength = size }.ToArray();
        Assert.Equal(size, frame.Length);
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv4 | PacketType.L4Udp, PacketParser.Parse(frame));
        var ip = new Ipv4Header(frame.AsSpan(14));
        var udp = new UdpHeader(ip.Payload);
        Assert.True(ip.IsValid);
        Assert.True(ip.IsChecksumValid);
        Assert.Equal(size - 14, ip.TotalLength);
        Assert.Equal(size - 34, udp.DatagramLength);
        Assert.NotEqual(0, udp.Checksum);
        Assert.True(udp.IsChecksumValid(ip));
        Assert.Equal(Ipv4Header.ParseAddress("198.18.0.1"), ip.SourceAddress);
        Assert.Equal(64, ip.TimeToLive);
    }

    [Fact]
    public void Ipv6_and_vlan_frames_carry_valid_checksums()
    {
        byte[] frame = new UdpFrame
        {
            VlanTci = 42,
            SourceAddress = IPAddress.Parse("fd00::1"),
            DestinationAddress = IPAddress.Parse("fd00::2"),
            FrameLength = 200,
            TimeToLive = 7,
        }.ToArray();
        Assert.Equal(PacketType.L2EtherVlan | PacketType.L3Ipv6 | PacketType.L4Udp, PacketParser.Parse(frame, out HeaderLengths l));
        Assert.Equal(new HeaderLengths(18, 40, 8), l);
        var ip = new Ipv6Header(frame.AsSpan(18));
        Assert.Equal(7, ip.HopLimit);
        Assert.Equal(200 - 58, ip.PayloadLength);
        Assert.True(new UdpHeader(ip.Payload).IsChecksumValid(ip));
        Assert.Equal(42, new VlanHeader(frame.AsSpan(14)).VlanId);
    }

    [Fact]
    public void An_explicit_short_payload_is_padded_but_not_counted()
    {
        byte[] frame = new UdpFrame { Payload = "hi"u8.ToArray() }.ToArray();
        Assert.Equal(60, frame.Length);
        var ip = new Ipv4Header(frame.AsSpan(14));
        Assert.Equal(20 + 8 + 2, ip.TotalLength);
        var udp = new UdpHeader(ip.Payload);
        Assert.Equal("hi"u8.ToArray(), udp.Payload.ToArray());
        Assert.True(udp.IsChecksumValid(ip));
        Assert.All(frame[44..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void Inconsistent_descriptions_say_what_to_change()
    {
        var e = Assert.Throws<ArgumentException>(() => new UdpFrame { FrameLength = 30 }.ToArray());
        Assert.Contains("at least 42", e.Message);
        e = Assert.Throws<ArgumentException>(() => new UdpFrame { DestinationAddress = IPAddress.Parse("::1") }.ToArray());
        Assert.Contains("different address families", e.Message);
    }

    [Fact]
    public void No_udp_checksum_when_asked_as_dpdk_txonly_does()
    {
        byte[] frame = new UdpFrame { ComputeUdpChecksum = false }.ToArray();
        var ip = new Ipv4Header(frame.AsSpan(14));
        Assert.Equal(0, new UdpHeader(ip.Payload).Checksum);
        Assert.True(new UdpHeader(ip.Payload).IsChecksumValid(ip));
    }

    [Fact]
    public void Templates_stamp_identical_frames_and_vary_the_source_port_with_a_valid_checksum()
    {
        using MbufPool pool = MbufPool.Create("udpframe", 64, cacheSize: 0);
        var frame = new UdpFrame { FrameLength = 128 };
        FrameTemplate template = frame.ToTemplate();
        var burst = new Packet[8];
        Assert.Equal(8, pool.AllocBulk(burst));
        Assert.Equal(8, template.WriteTo(burst));
        foreach (Packet p in burst)
            Assert.Equal(frame.ToArray(), p.Data.ToArray());
        for (ushort port = 0; port < 8; port++)
        {
            Assert.True(template.TryWriteTo(burst[port], (ushort)(1000 + port)));
            var ip = new Ipv4Header(burst[port].Data[14..]);
            var udp = new UdpHeader(ip.Payload);
            Assert.Equal(1000 + port, udp.SourcePort);
            Assert.True(udp.IsChecksumValid(ip));
            Assert.Equal(udp.ComputeChecksum(ip), udp.Checksum);
        }
        Packet.FreeBulk(burst);
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void A_frame_larger_than_the_buffer_is_refused_and_the_packet_left_alone()
    {
        using MbufPool pool = MbufPool.Create("udpbig", 4, cacheSize: 0);
        Packet p = pool.Alloc();
        Assert.False(new UdpFrame { FrameLength = 4000 }.TryWriteTo(p));
        Assert.Equal(0, p.Length);
        Assert.True(new UdpFrame { FrameLength = 2048 }.TryWriteTo(p));
        Assert.Equal(2048, p.Length);
        p.Free();
    }
}
