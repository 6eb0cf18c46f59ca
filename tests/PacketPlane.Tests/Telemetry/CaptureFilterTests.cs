using System;
using PacketPlane.Telemetry;
using Xunit;

namespace PacketPlane.Tests.Telemetry;

public class CaptureFilterTests
{
    // Ethernet + IPv4 + UDP 1234 -> 53, built byte by byte so the test does not depend on PacketPlane's header code.
    internal static byte[] Udp4(ushort src = 1234, ushort dst = 53, int vlanTags = 0, ushort fragment = 0)
    {
        var f = new byte[14 + 4 * vlanTags + 20 + 8 + 4];
        int at = 12;
        for (int i = 0; i < vlanTags; i++)
        {
            f[at] = i == 0 && vlanTags == 2 ? (byte)0x88 : (byte)0x81;
            f[at + 1] = i == 0 && vlanTags == 2 ? (byte)0xa8 : (byte)0x00;
            f[at + 3] = 10;
            at += 4;
        }
        f[at] = 0x08; f[at + 1] = 0x00; at += 2;
        f[at] = 0x45; f[at + 6] = (byte)(fragment >> 8); f[at + 7] = (byte)fragment; f[at + 9] = 17; at += 20;
        f[at] = (byte)(src >> 8); f[at + 1] = (byte)src; f[at + 2] = (byte)(dst >> 8); f[at + 3] = (byte)dst;
        return f;
    }

    internal static byte[] Tcp6(ushort src, ushort dst)
    {
        var f = new byte[14 + 40 + 20];
        f[12] = 0x86; f[13] = 0xdd; f[14] = 0x60; f[14 + 6] = 6;
        f[54] = (byte)(src >> 8); f[55] = (byte)src; f[56] = (byte)(dst >> 8); f[57] = (byte)dst;
        return f;
    }

    internal static byte[] Ether(ushort etherType, int length = 60)
    {
        var f = new byte[length];
        f[12] = (byte)(etherType >> 8);
        f[13] = (byte)etherType;
        return f;
    }

    [Theory]
    [InlineData("", true, true, true, true)]
    [InlineData("ip", true, false, false, true)]
    [InlineData("ip6", false, true, false, false)]
    [InlineData("udp", true, false, false, true)]
    [InlineData("tcp", false, true, false, false)]
    [InlineData("udp and port 53", true, false, false, true)]
    [InlineData("dst port 53", true, false, false, true)]
    [InlineData("src port 53", false, false, false, false)]
    [InlineData("port 80", false, true, false, false)]
    [InlineData("ether proto 0x88b5", false, false, true, false)]
    [InlineData("ether proto 34997", false, false, true, false)]
    [InlineData("ip proto 17", true, false, false, true)]
    [InlineData("vlan", false, false, false, true)]
    [InlineData("vlan and udp AND dst port 53", false, false, false, true)]
    [InlineData("ip6 and tcp and src port 40000", false, true, false, false)]
    public void Terms_match_the_headers_they_name(string filter, bool udp4, bool tcp6, bool experimental, bool udp4InVlan)
    {
        CaptureFilter f = CaptureFilter.Parse(filter);
        Assert.Equal(udp4, f.Matches(Udp4()));
        Assert.Equal(tcp6, f.Matches(Tcp6(40000, 80)));
        Assert.Equal(experimental, f.Matches(Ether(0x88b5)));
        Assert.Equal(udp4InVlan, f.Matches(Udp4(vlanTags: 2)));
    }

    [Fact]
    public void Later_ipv4_fragments_have_no_ports()
    {
        CaptureFilter f = CaptureFilter.Parse("udp and port 53");
        Assert.True(f.Matches(Udp4(fragment: 0x2000)));   // more-fragments, offset 0: first fragment has the header
        Assert.False(f.Matches(Udp4(fragment: 0x0010)));  // offset 16*8: no UDP header here
        Assert.True(CaptureFilter.Parse("udp").Matches(Udp4(fragment: 0x0010)));
    }

    [Fact]
    public void Truncated_frames_do_not_match_port_tests_and_never_throw()
    {
        CaptureFilter f = CaptureFilter.Parse("udp and port 53");
        byte[] full = Udp4();
        for (int len = 0; len < full.Length; len++)
            f.Matches(full.AsSpan(0, len));
        Assert.False(f.Matches(full.AsSpan(0, 36)));
        Assert.True(CaptureFilter.Parse("").Matches(ReadOnlySpan<byte>.Empty));
    }

    [Theory]
    [InlineData("udp or tcp", "expected 'and' before 'or'")]
    [InlineData("port", "'port' needs a number")]
    [InlineData("port 70000", "from 0 to 65535")]
    [InlineData("ether 0x800", "expected 'proto' after 'ether'")]
    [InlineData("ip and ip6", "two different EtherTypes")]
    [InlineData("tcp and udp", "two different IP protocols")]
    [InlineData("udp and", "expected a term after the last 'and'")]
    [InlineData("host 10.0.0.1", "unknown term 'host'")]
    [InlineData("ip6 and icmp", "icmp needs IPv4")]
    public void Bad_filters_name_the_problem(string filter, string expected)
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => CaptureFilter.Parse(filter));
        Assert.Contains(expected, e.Message);
        Assert.Contains(filter, e.Message);
    }
}
