using System.Linq;
using System.Runtime.InteropServices;
using PacketPlane.Drivers.AfPacket;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Interop;
using Xunit;

namespace PacketPlane.Tests.Drivers.AfPacket;

/// <summary>net_af_packet arguments and ring geometry, checked without touching the kernel.</summary>
public class AfPacketOptionsTests
{
    private static AfPacketOptions Parse(string text) => AfPacketOptions.Parse(DeviceArguments.Parse(text), 4096);

    [Fact]
    public void Defaults_are_dpdks()
    {
        AfPacketOptions o = Parse("net_af_packet0,iface=eth1");
        Assert.Equal("eth1", o.Interface);
        Assert.Equal(1, o.QueuePairs);
        Assert.Equal(4096, o.BlockSize);
        Assert.Equal(2048, o.FrameSize);
        Assert.Equal(512, o.FrameCount);
        Assert.True(o.QdiscBypass);
        Assert.Equal(2, o.FramesPerBlock);
        Assert.Equal(256, o.BlockCount);
        Assert.Equal(1L << 20, o.RingBytes);
    }

    [Fact]
    public void Frame_capacities_follow_the_kernels_v2_frame_layout()
    {
        // struct tpacket2_hdr is 32 bytes, TPACKET2_HDRLEN 52; RX puts the MAC header at 66, TX data at 32.
        Assert.Equal(32, Marshal.SizeOf<Libc.tpacket2_hdr>());
        Assert.Equal(52, Libc.TPACKET2_HDRLEN);
        Assert.Equal(16, Marshal.SizeOf<Libc.tpacket_req>());
        Assert.Equal(16, Marshal.SizeOf<Libc.packet_mreq>());
        Assert.Equal(66, AfPacketOptions.RxMacOffset);
        Assert.Equal(32, AfPacketOptions.TxDataOffset);
        AfPacketOptions o = Parse("net_af_packet0,iface=eth1,framesz=4096,blocksz=8192,framecnt=64");
        Assert.Equal(4096 - 66, o.MaxRxFrameLength);
        Assert.Equal(4096 - 32, o.MaxTxFrameLength);
        Assert.Equal(4096 - 80, o.MaxMtu);
    }

    [Fact]
    public void A_block_size_that_is_not_a_multiple_of_the_frame_size_leaves_slack_but_is_valid()
    {
        AfPacketOptions o = Parse("net_af_packet0,iface=eth1,blocksz=4096,framesz=1536,framecnt=8");
        Assert.Equal(2, o.FramesPerBlock);
        Assert.Equal(4, o.BlockCount);
        Libc.tpacket_req req = o.Request;
        Assert.Equal(4096u, req.tp_block_size);
        Assert.Equal(4u, req.tp_block_nr);
        Assert.Equal(1536u, req.tp_frame_size);
        Assert.Equal(8u, req.tp_frame_nr);
    }

    [Theory]
    [InlineData("qpairs=4,blocksz=8192,framesz=1024,framecnt=1024,qdisc_bypass=0")]
    [InlineData("framesz=128")]
    [InlineData("qpairs=256")]
    public void Valid_geometries_pass(string args) => Parse($"net_af_packet0,iface=eth1,{args}");

    [Theory]
    [InlineData("", "needs iface=")]
    [InlineData(",iface=averyveryverylongname", "at most 15")]
    [InlineData(",iface=eth1,blocksz=6000", "Use blocksz=8192")]
    [InlineData(",iface=eth1,framesz=100", "Use framesz=112")]
    [InlineData(",iface=eth1,framesz=112", "framesz=112 is too small")]
    [InlineData(",iface=eth1,framesz=8192", "cannot span blocks")]
    [InlineData(",iface=eth1,framecnt=7", "Use framecnt=8")]
    [InlineData(",iface=eth1,qpairs=257", "qpairs=257 is more than the 256")]
    [InlineData(",iface=eth1,framecnt=-1", "from 1 to")]
    [InlineData(",iface=eth1,blocksz=1073741824,framecnt=2097152", "4 GiB")]
    public void Invalid_arguments_name_the_fix(string args, string expected)
    {
        DeviceArgumentException e = Assert.Throws<DeviceArgumentException>(() => Parse("net_af_packet0" + args));
        Assert.Contains(expected, e.Message);
        Assert.Contains("net_af_packet0", e.Message);
    }

    [Fact]
    public void The_driver_and_dpdks_alias_are_registered_with_their_arguments_and_requirements()
    {
        EthDriver driver = EthDriverRegistry.Find("net_af_packet0");
        Assert.Equal("net_af_packet", driver.Name);
        Assert.Equal(["blocksz", "framecnt", "framesz", "iface", "qdisc_bypass", "qpairs"], driver.Parameters.Keys.Order());
        Assert.Contains("CAP_NET_RAW", driver.Requirements);
        Assert.Equal("eth_af_packet", EthDriverRegistry.Find("eth_af_packet1").Name);
    }
}
