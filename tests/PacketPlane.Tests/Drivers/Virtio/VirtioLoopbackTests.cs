using System;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Drivers.Virtio;

/// <summary>Our virtio-user frontend against our vhost-user backend, in one process, over a real socket.</summary>
[Collection(LcoreIdentity.Collection)]
public class VirtioLoopbackTests
{
    [Theory]
    [InlineData(false, false, false)]
    [InlineData(false, true, false)]
    [InlineData(false, true, true)]
    [InlineData(true, false, false)]
    [InlineData(true, true, false)]
    [InlineData(true, true, true)]
    public void Frames_cross_both_ways_byte_exact(bool packed, bool mrg, bool inOrder)
    {
        using var _ = LcoreIdentity.As(3);
        string args = $",packed_vq={(packed ? 1 : 0)},mrg_rxbuf={(mrg ? 1 : 0)},in_order={(inOrder ? 1 : 0)}";
        using var pair = new VirtioPair(frontendArgs: args);
        pair.WaitForLinks();
        const int total = 20_000;
        int sent = 0, echoed = 0, received = 0;
        var burst = new Packet[32];
        var rx = new Packet[32];
        int size = 64;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (received < total && DateTime.UtcNow < deadline)
        {
            if (sent < total && sent - received < 128)
            {
                int n = Math.Min(burst.Length, total - sent);
                int filled = VirtioPair.Fill(pair.FrontendPool, burst.AsSpan(0, n), sent, size);
                int tx = pair.Frontend.TxBurst(0, burst.AsSpan(0, filled));
                Packet.FreeBulk(burst.AsSpan(tx, filled - tx));
                sent += tx;
            }
            int got = pair.Backend.RxBurst(0, rx);
            for (int i = 0; i < got; i++)
                Assert.True(VirtioPair.CheckFrame(rx[i].Data, echoed + i, size), $"backend got a wrong frame at {echoed + i}");
            int back = 0;
            while (back < got)
                back += pair.Backend.TxBurst(0, rx.AsSpan(back, got - back));
            echoed += got;
            int r = pair.Frontend.RxBurst(0, rx);
            for (int i = 0; i < r; i++)
            {
                Assert.True(VirtioPair.CheckFrame(rx[i].Data, received + i, size), $"frontend got a wrong frame at {received + i}");
                Assert.Equal(pair.Frontend.PortId, rx[i].Port);
            }
            Packet.FreeBulk(rx.AsSpan(0, r));
            received += r;
        }
        Assert.Equal(total, received);
        Assert.Equal((ulong)total, pair.Frontend.GetStats().OutPackets);
        Assert.Equal((ulong)total, pair.Backend.GetStats().InPackets);
        Assert.Equal((ulong)total, pair.Frontend.GetStats().InPackets);
    }
}
