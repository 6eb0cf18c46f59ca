using System;
using PacketPlane.Drivers.AfXdp;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Drivers.AfXdp;

/// <summary>The UMEM registered over an mbuf pool: chunk geometry, frame limits and the divide-free index.</summary>
public class UmemLayoutTests
{
    [Fact]
    public void Default_pool_gives_DPDK_geometry_and_1792_byte_frames()
    {
        using MbufPool pool = MbufPool.Create("umem_default", 1024, cacheSize: 0);
        UmemLayout layout = UmemLayout.For(pool, "t");
        Assert.Equal(128u, layout.BufferOffset);
        Assert.Equal(128u + 2048 + 128, layout.ChunkSize);   // header + data room: 2304
        Assert.Equal(256u, layout.Headroom);                  // header + mbuf headroom
        Assert.Equal(2304 - 256 - 256, layout.MaxFrameLength); // chunk - UMEM headroom - XDP_PACKET_HEADROOM
        Assert.Equal((ulong)pool.Region.Length, layout.Length);
    }

    [Theory]
    [InlineData(2304)]
    [InlineData(2368)]
    [InlineData(4096)]
    [InlineData(9344)]
    public void IndexOf_equals_division_for_every_offset_in_a_large_umem(int elementSize)
    {
        // Exercise the same reciprocal the layout uses on synthetic geometry, up to 2^40 bytes of UMEM.
        ulong reciprocal = ulong.MaxValue / (ulong)elementSize + 1;
        var rng = new Random(elementSize);
        for (int i = 0; i < 200_000; i++)
        {
            ulong element = (ulong)rng.NextInt64(0, (1L << 40) / elementSize);
            ulong within = (ulong)rng.Next(elementSize);
            ulong offset = element * (ulong)elementSize + (i % 3 == 0 ? 0 : i % 3 == 1 ? (ulong)elementSize - 1 : within);
            Assert.Equal(offset / (ulong)elementSize, Math.BigMul(offset, reciprocal, out _));
        }
    }

    [Fact]
    public void IndexOf_matches_every_mbuf_of_a_real_pool()
    {
        using MbufPool pool = MbufPool.Create("umem_index", 3000, cacheSize: 0, privateSize: 64);
        UmemLayout layout = UmemLayout.For(pool, "t");
        for (uint i = 0; i < 3000; i++)
        {
            ulong start = (ulong)i * (ulong)pool.ElementSize;
            Assert.Equal(i, layout.IndexOf(start));
            Assert.Equal(i, layout.IndexOf(start + (ulong)pool.ElementSize - 1));
        }
        Assert.Equal(128u + 64, layout.BufferOffset);
    }

    [Fact]
    public void Pool_with_too_small_buffers_is_refused_with_the_size_that_works()
    {
        using MbufPool pool = MbufPool.Create("umem_small", 64, cacheSize: 0, dataRoomSize: 1024 + 128);
        string m = Assert.Throws<EthDevException>(() => UmemLayout.For(pool, "net_af_xdp0")).Message;
        Assert.Contains("at least 2048 bytes", m);
        Assert.Contains("dataRoomSize >= 1920", m);
    }
}
