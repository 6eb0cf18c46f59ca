using System;
using PacketPlane.Net;
using Xunit;

namespace PacketPlane.Tests.Net;

public class HeaderTests
{
    [Fact]
    public void Ethernet_fields_are_big_endian_and_swap_exchanges_addresses()
    {
        byte[] frame = Convert.FromHexString("0102030405060a0b0c0d0e0f0800");
        var eth = new EthernetHeader(frame);
        Assert.Equal(MacAddress.Parse("01:02:03:04:05:06"), eth.Destination);
        Assert.Equal(MacAddress.Parse("0a:0b:0c:0d:0e:0f"), eth.Source);
        Assert.Equal(EtherType.Ipv4, eth.EtherType);
        eth.SwapAddresses();
        Assert.Equal("0a0b0c0d0e0f0102030405060800", Convert.ToHexString(frame).ToLowerInvariant());
        eth.EtherType = EtherType.Ipv6;
        Assert.Equal(0x86, frame[12]);
        Assert.Equal(0xDD, frame[13]);
    }

    [Fact]
    public void Views_refuse_spans_shorter_than_their_fixed_part()
    {
        Assert.Throws<ArgumentException>(() => new EthernetHeader(new byte[13]));
        Assert.Throws<ArgumentException>(() => new Ipv4Header(new byte[19]));
        Assert.Throws<ArgumentException>(() => new Ipv6Header(new byte[39]));
        Assert.Throws<ArgumentException>(() => new UdpHeader(new byte[7]));
        Assert.Throws<ArgumentException>(() => new TcpHeader(new byte[19]));
        Assert.Throws<ArgumentException>(() => new ArpHeader(new byte[27]));
        Assert.False(Ipv4Header.TryCreate(new byte[19], out _));
        Assert.True(Ipv4Header.TryCreate(new byte[20], out _));
    }

    [Fact]
    public void Ipv4_variable_parts_are_clamped_to_the_span_whatever_the_header_claims()
    {
        byte[] bytes = new byte[24];
        var ip = new Ipv4Header(bytes) { VersionIhl = 0x4F, TotalLength = 60000 };
        Assert.False(ip.IsValid);
        Assert.Equal(4, ip.Options.Length);
        Assert.Equal(0, ip.Payload.Length);
        ip.VersionIhl = 0x41; // IHL 1, below the minimum
        Assert.Equal(0, ip.Options.Length);
        Assert.Equal(4, ip.Payload.Length);
        _ = ip.ComputeChecksum();
    }

    [Fact]
    public void Ipv4_addresses_format_and_parse()
    {
        Assert.Equal(0xC6120001u, Ipv4Header.ParseAddress("198.18.0.1"));
        Assert.Equal("198.18.0.1", Ipv4Header.FormatAddress(0xC6120001));
        Assert.Throws<FormatException>(() => Ipv4Header.ParseAddress("::1"));
    }

    [Fact]
    public void Arp_round_trips_its_fields()
    {
        byte[] bytes = new byte[28];
        ArpHeader.Write(bytes, ArpHeader.OperationReply, MacAddress.Parse("02:00:00:00:00:01"), 0x0A630001, MacAddress.Parse("02:00:00:00:00:02"), 0x0A630002);
        var arp = new ArpHeader(bytes);
        Assert.True(arp.IsEthernetIpv4);
        Assert.Equal(ArpHeader.OperationReply, arp.Operation);
        Assert.Equal(0x0A630001u, arp.SenderProtocolAddress);
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:02"), arp.TargetHardwareAddress);
    }

    [Fact]
    public void Ipv6_hop_limit_decrement_and_extension_walk_limits()
    {
        byte[] frame = TestPackets.Udp6(100);
        var ip = new Ipv6Header(frame.AsSpan(14));
        Assert.True(ip.IsValid);
        Assert.Equal(63, ip.DecrementHopLimit());
        // A chain of nine destination-options headers is over the walk limit.
        var nine = new (byte, int)[9];
        Array.Fill(nine, (IpProtocol.DestinationOptions, 8));
        byte[] tooMany = TestPackets.Ipv6WithExtensions(nine, IpProtocol.Udp, 8);
        Assert.False(new Ipv6Header(tooMany.AsSpan(14)).WalkExtensionHeaders(out _));
        Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv6Ext, PacketParser.Parse(tooMany));
        // Hop-by-hop after another extension header is malformed (RFC 8200 section 4.3).
        byte[] late = TestPackets.Ipv6WithExtensions([(IpProtocol.DestinationOptions, 8), (IpProtocol.HopByHop, 8)], IpProtocol.Udp, 8);
        Assert.False(new Ipv6Header(late.AsSpan(14)).WalkExtensionHeaders(out _));
    }

    [Fact]
    public void Tcp_checksum_round_trip_over_ipv4()
    {
        byte[] frame = TestPackets.Tcp4(payload: 33);
        var ip = new Ipv4Header(frame.AsSpan(14));
        var tcp = new TcpHeader(ip.Payload);
        Assert.True(tcp.IsChecksumValid(ip));
        tcp.Payload[0] ^= 0x40;
        Assert.False(tcp.IsChecksumValid(ip));
        tcp.UpdateChecksum(ip);
        Assert.True(tcp.IsChecksumValid(ip));
    }
}
