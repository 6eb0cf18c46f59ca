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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Merged_receive_buffers_carry_packets_larger_than_one_buffer(bool packed)
    {
        using var _ = LcoreIdentity.As(3);
        // 512-byte buffers on both sides: a 1500-byte frame spans three of the frontend's RX buffers (MRG_RXBUF)
        // and three chained mbufs when the backend receives it.
        using var pair = new VirtioPair(frontendArgs: $",packed_vq={(packed ? 1 : 0)},mrg_rxbuf=1", dataRoom: 512 + 128);
        pair.WaitForLinks();
        const int size = 1500, count = 200;
        var buf = new byte[size];
        var one = new Packet[1];
        var rx = new Packet[16];
        int received = 0;
        for (int seq = 0; seq < count; seq++)
        {
            // Build the frame as a chain of 3 mbufs (exercises the transmit chain path with a header slot).
            one[0] = Chain(pair.BackendPool, seq, size);
            Assert.Equal(3, one[0].SegmentCount);
            Assert.Equal(1, pair.Backend.TxBurst(0, one));
            int n = 0;
            for (int spin = 0; spin < 10_000 && n == 0; spin++)
                n = pair.Frontend.RxBurst(0, rx);
            Assert.Equal(1, n);
            Assert.Equal(size, rx[0].Length);
            Assert.True(rx[0].SegmentCount >= 3);
            Assert.Equal(size, rx[0].CopyTo(buf));
            Assert.True(VirtioPair.CheckFrame(buf, seq, size), $"frame {seq} differs");
            // And back: the frontend sends the chained packet (header slot + 3+ segments).
            Assert.Equal(1, pair.Frontend.TxBurst(0, rx.AsSpan(0, 1)));
            n = 0;
            for (int spin = 0; spin < 10_000 && n == 0; spin++)
                n = pair.Backend.RxBurst(0, rx);
            Assert.Equal(1, n);
            Assert.Equal(size, rx[0].CopyTo(buf));
            Assert.True(VirtioPair.CheckFrame(buf, seq, size));
            Packet.FreeBulk(rx.AsSpan(0, 1));
            received++;
        }
        Assert.Equal(count, received);
        pair.Frontend.Stop();
        pair.Backend.Stop();
        Assert.Equal(0, pair.BackendPool.InUse);
    }

    [Fact]
    public void Without_merged_buffers_a_packet_too_large_for_one_buffer_is_dropped_and_counted()
    {
        using var _ = LcoreIdentity.As(3);
        using var pair = new VirtioPair(frontendArgs: ",mrg_rxbuf=0", dataRoom: 512 + 128);
        pair.WaitForLinks();
        var one = new Packet[1];
        one[0] = Chain(pair.BackendPool, 1, 1500);
        Assert.Equal(1, pair.Backend.TxBurst(0, one));           // taken, and dropped
        Assert.Equal(1UL, pair.Backend.GetStats().OutErrors);
        Assert.Equal(1, VirtioPair.Fill(pair.BackendPool, one, 2, 400));
        Assert.Equal(1, pair.Backend.TxBurst(0, one));
        var rx = new Packet[4];
        int n = 0;
        for (int spin = 0; spin < 10_000 && n == 0; spin++)
            n = pair.Frontend.RxBurst(0, rx);
        Assert.Equal(1, n);
        Assert.True(VirtioPair.CheckFrame(rx[0].Data, 2, 400));
        Packet.FreeBulk(rx.AsSpan(0, 1));
    }

    private static Packet Chain(MbufPool pool, int seq, int size)
    {
        var frame = new byte[size];
        VirtioPair.BuildFrame(frame, seq, size);
        Packet head = default;
        int off = 0;
        while (off < size)
        {
            Packet seg = pool.Alloc();
            Assert.False(seg.IsNull);
            int n = Math.Min(500, size - off);
            Assert.True(seg.TryAppend(n));
            frame.AsSpan(off, n).CopyTo(seg.Data);
            off += n;
            if (head.IsNull)
                head = seg;
            else
                Assert.True(head.TryChain(seg));
        }
        return head;
    }
}

/// <summary>Two queue pairs (MQ): each queue's traffic stays on its own vrings.</summary>
[Collection(LcoreIdentity.Collection)]
public class VirtioMultiQueueTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Each_queue_pair_carries_its_own_traffic(bool packed)
    {
        using var _ = LcoreIdentity.As(3);
        string dir = System.IO.Directory.CreateTempSubdirectory("ppvmq").FullName;
        string sock = System.IO.Path.Combine(dir, "mq.sock");
        int id = 9000 + Environment.ProcessId % 1000 * 10 + (packed ? 1 : 0);
        using MbufPool pool = MbufPool.Create("vmq" + id, 4096, cacheSize: 64);
        using var backend = PacketPlane.Ethdev.EthDev.Create($"net_vhost{id},iface={sock},queues=2");
        using var frontend = PacketPlane.Ethdev.EthDev.Create($"net_virtio_user{id},path={sock},queues=2,packed_vq={(packed ? 1 : 0)}");
        foreach (var port in new[] { backend, frontend })
        {
            port.Configure(2, 2);
            for (int q = 0; q < 2; q++)
            {
                port.SetupRxQueue(q, 256, pool);
                port.SetupTxQueue(q, 256);
            }
            port.Start();
        }
        Assert.True(frontend.WaitForLink(TimeSpan.FromSeconds(10)).IsUp);
        Assert.True(backend.WaitForLink(TimeSpan.FromSeconds(10)).IsUp);
        var burst = new Packet[8];
        var rx = new Packet[16];
        for (int q = 0; q < 2; q++)
        {
            Assert.Equal(8, VirtioPair.Fill(pool, burst, q * 100, 90));
            Assert.Equal(8, frontend.TxBurst(q, burst));
            int got = 0, other = 0;
            for (int spin = 0; spin < 10_000 && got < 8; spin++)
            {
                int n = backend.RxBurst(q, rx.AsSpan(got));
                got += n;
                other += backend.RxBurst(1 - q, rx.AsSpan(8));
                Packet.FreeBulk(rx.AsSpan(8, 0));
            }
            Assert.Equal(8, got);
            Assert.Equal(0, other);
            for (int i = 0; i < 8; i++)
                Assert.True(VirtioPair.CheckFrame(rx[i].Data, q * 100 + i, 90));
            // And back on the same queue pair.
            Assert.Equal(8, backend.TxBurst(q, rx.AsSpan(0, 8)));
            got = 0;
            for (int spin = 0; spin < 10_000 && got < 8; spin++)
                got += frontend.RxBurst(q, rx.AsSpan(got));
            Assert.Equal(8, got);
            Assert.Equal(0, frontend.RxBurst(1 - q, rx.AsSpan(8)));
            Packet.FreeBulk(rx.AsSpan(0, 8));
        }
        frontend.Close();
        backend.Close();
        Assert.Equal(0, pool.InUse);
        System.IO.Directory.Delete(dir, recursive: true);
    }
}
