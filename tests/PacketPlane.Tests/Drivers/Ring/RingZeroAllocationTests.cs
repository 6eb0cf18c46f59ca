using System;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Drivers.Ring;

/// <summary>net_ring RX/TX allocate nothing: GC.GetAllocatedBytesForCurrentThread over a million packets, after a warm-up.</summary>
[Collection(LcoreIdentity.Collection)]
public class RingZeroAllocationTests
{
    [Fact]
    public void Ring_loopback_rx_and_tx_allocate_nothing_over_a_million_packets()
    {
        using MbufPool pool = MbufPool.Create("ring_zalloc", 1024, cacheSize: 64);
        using var _ = LcoreIdentity.As(3);
        using EthDev port = TxBufferTests.LoopbackPort("net_ring_zalloc", 1024, pool);
        var burst = new Packet[32];
        Assert.Equal(32, pool.AllocBulk(burst));
        Loop(port, burst, 10_000); // warm-up: JIT, tiering
        long before = GC.GetAllocatedBytesForCurrentThread();
        Loop(port, burst, 1_000_000 / 32 + 1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Packet.FreeBulk(burst);
        port.Close();
        Assert.Equal(0, pool.InUse);
    }

    private static void Loop(EthDev port, Packet[] burst, int rounds)
    {
        for (int r = 0; r < rounds; r++)
        {
            if (port.TxBurst(0, burst) != burst.Length || port.RxBurst(0, burst) != burst.Length)
                throw new InvalidOperationException("the loopback ring lost packets");
        }
    }
}
