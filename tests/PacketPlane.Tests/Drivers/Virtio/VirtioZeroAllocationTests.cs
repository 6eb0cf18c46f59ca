using System;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Drivers.Virtio;

/// <summary>
/// The virtio-user and vhost-user bursts allocate nothing: a million packets cross frontend TX, backend RX,
/// backend TX and frontend RX while GC.GetAllocatedBytesForCurrentThread stays put.
/// </summary>
[Collection(LcoreIdentity.Collection)]
public class VirtioZeroAllocationTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_million_packets_through_frontend_and_backend_allocate_nothing(bool packed)
    {
        using var _ = LcoreIdentity.As(5);
        using var pair = new VirtioPair(frontendArgs: $",packed_vq={(packed ? 1 : 0)}");
        pair.WaitForLinks();
        var burst = new Packet[32];
        var rx = new Packet[32];
        Run(pair, burst, rx, 20_000);                      // warm up: JIT tiers, mempool caches
        long before = GC.GetAllocatedBytesForCurrentThread();
        long moved = Run(pair, burst, rx, 1_000_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1_000_000, moved);
        Assert.Equal(0, allocated);
    }

    // Frontend TX -> backend RX -> backend TX (same mbufs) -> frontend RX, on this thread. Returns packets that
    // completed the round trip.
    private static long Run(VirtioPair pair, Packet[] burst, Packet[] rx, int total)
    {
        long sent = 0, back = 0;
        int spins = 0;
        while (back < total)
        {
            if (sent < total && sent - back < 128)
            {
                int n = (int)Math.Min(burst.Length, total - sent);
                Span<Packet> b = burst.AsSpan(0, n);
                if (pair.FrontendPool.AllocBulk(b) == n)
                {
                    foreach (Packet p in b)
                        p.TrySetLength(64);
                    int tx = pair.Frontend.TxBurst(0, b);
                    Packet.FreeBulk(b[tx..]);
                    sent += tx;
                }
            }
            int got = pair.Backend.RxBurst(0, rx);
            int fwd = pair.Backend.TxBurst(0, rx.AsSpan(0, got));
            Packet.FreeBulk(rx.AsSpan(fwd, got - fwd));
            int r = pair.Frontend.RxBurst(0, rx);
            Packet.FreeBulk(rx.AsSpan(0, r));
            back += r;
            if (r == 0 && got == 0 && ++spins > 10_000_000)
                throw new InvalidOperationException($"stalled after {back} packets");
        }
        return back;
    }
}
