using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Memory;

/// <summary>Pins the mbuf layout to DPDK's rte_mbuf (64-bit): drivers and vector RX depend on these offsets.</summary>
public class MbufLayoutTests
{
    [Fact]
    public void Header_is_two_cache_lines()
    {
        Assert.Equal(128, Unsafe.SizeOf<Mbuf>());
        Assert.Equal(Mbuf.Size, Unsafe.SizeOf<Mbuf>());
    }

    [Theory]
    [InlineData(nameof(Mbuf.BufAddr), 0)]
    [InlineData(nameof(Mbuf.BufIova), 8)]
    [InlineData(nameof(Mbuf.RearmData), 16)]
    [InlineData(nameof(Mbuf.DataOff), 16)]
    [InlineData(nameof(Mbuf.RefCnt), 18)]
    [InlineData(nameof(Mbuf.NbSegs), 20)]
    [InlineData(nameof(Mbuf.Port), 22)]
    [InlineData(nameof(Mbuf.OlFlags), 24)]
    [InlineData(nameof(Mbuf.PacketType), 32)]
    [InlineData(nameof(Mbuf.PktLen), 36)]
    [InlineData(nameof(Mbuf.DataLen), 40)]
    [InlineData(nameof(Mbuf.VlanTci), 42)]
    [InlineData(nameof(Mbuf.RssHash), 44)]
    [InlineData(nameof(Mbuf.VlanTciOuter), 52)]
    [InlineData(nameof(Mbuf.BufLen), 54)]
    [InlineData(nameof(Mbuf.PoolId), 56)]
    [InlineData(nameof(Mbuf.Next), 64)]
    [InlineData(nameof(Mbuf.TxOffload), 72)]
    [InlineData(nameof(Mbuf.PrivSize), 88)]
    [InlineData(nameof(Mbuf.Timestamp), 96)]
    public void Field_sits_where_rte_mbuf_has_it(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<Mbuf>(field));

    [Fact]
    public void Every_rx_fast_path_field_is_in_the_first_cache_line()
    {
        foreach (string f in new[] { nameof(Mbuf.DataOff), nameof(Mbuf.OlFlags), nameof(Mbuf.PacketType), nameof(Mbuf.PktLen),
                     nameof(Mbuf.DataLen), nameof(Mbuf.VlanTci), nameof(Mbuf.RssHash), nameof(Mbuf.Port) })
            Assert.True((int)Marshal.OffsetOf<Mbuf>(f) < 64, f);
    }

    [Fact]
    public void Packet_handle_is_pointer_sized() => Assert.Equal(8, Unsafe.SizeOf<Packet>());
}
