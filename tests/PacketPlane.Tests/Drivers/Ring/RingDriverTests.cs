using System;
using System.Buffers.Binary;
using System.Threading;
using PacketPlane.Drivers.Ring;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Ring;
using Xunit;

namespace PacketPlane.Tests.Drivers.Ring;

public class RingDriverTests
{
    [Fact]
    public void A_vdev_ring_port_loops_its_tx_back_to_its_rx_without_copying()
    {
        using MbufPool pool = MbufPool.Create("ring_loop", 256, cacheSize: 0);
        using EthDev port = EthDev.Create("net_ring_t1");
        Assert.Equal(16, port.Info.MaxRxQueues);
        Assert.False(port.Link.IsUp);
        port.Configure(2, 2);
        for (int q = 0; q < 2; q++)
        {
            port.SetupRxQueue(q, 1024, pool);
            port.SetupTxQueue(q, 1024);
        }
        port.Start();
        Assert.True(port.Link.IsUp);
        var sent = new Packet[10];
        Assert.Equal(10, pool.AllocBulk(sent));
        foreach (Packet p in sent)
            p.TryAppend(60);
        Assert.Equal(10, port.TxBurst(1, sent));
        var got = new Packet[32];
        Assert.Equal(0, port.RxBurst(0, got));
        Assert.Equal(10, port.RxBurst(1, got));
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(sent[i], got[i]); // the same mbuf: zero-copy
            Assert.Equal(port.PortId, got[i].Port);
        }
        PortStats stats = port.GetStats();
        Assert.Equal(10ul, stats.InPackets);
        Assert.Equal(10ul, stats.OutPackets);
        Assert.Equal(600ul, stats.OutBytes);
        Assert.Equal(600ul, stats.InBytes);
        Packet.FreeBulk(got.AsSpan(0, 10));
        port.Close();
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Arguments_set_queues_and_ring_size_and_bad_values_are_named()
    {
        using (EthDev port = EthDev.Create("net_ring_t2,queues=3,size=64"))
        {
            Assert.Equal(3, port.Info.MaxRxQueues);
            Assert.Equal(3, port.Info.MaxTxQueues);
            Assert.Throws<EthDevException>(() => port.Configure(4, 1));
        }
        var e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create("net_ring_t3,size=100"));
        Assert.Contains("size=100 is not a power of two", e.Message);
        e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create("net_ring_t4,rings=2"));
        Assert.Contains("unknown argument 'rings'", e.Message);
        Assert.Contains("queues", e.Message);
    }

    [Fact]
    public void A_full_ring_takes_what_fits_and_leaves_the_rest_to_the_caller()
    {
        using MbufPool pool = MbufPool.Create("ring_full", 256, cacheSize: 0);
        using EthDev port = EthDev.Create("net_ring_t5,queues=1,size=8");
        port.Configure(1, 1);
        port.SetupRxQueue(0, 8, pool);
        port.SetupTxQueue(0, 8);
        port.Start();
        var burst = new Packet[10];
        pool.AllocBulk(burst);
        Assert.Equal(7, port.TxBurst(0, burst)); // 8 slots hold 7
        Packet.FreeBulk(burst.AsSpan(7));
        Assert.Equal(0ul, port.GetStats().OutErrors);
        port.Stop();
        port.Close(); // the 7 still in the loopback ring are freed
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void A_pair_is_wired_back_to_back_both_ways()
    {
        using MbufPool pool = MbufPool.Create("ring_pair", 512, cacheSize: 0);
        (EthDev a, EthDev b) = RingPort.CreatePair("pa", "pb", queues: 2, ringSize: 64);
        try
        {
            Assert.Equal("net_ring_pa", a.Name);
            foreach (EthDev port in new[] { a, b })
            {
                port.Configure(2, 2);
                for (int q = 0; q < 2; q++)
                {
                    port.SetupRxQueue(q, 64, pool);
                    port.SetupTxQueue(q, 64);
                }
                port.Start();
            }
            var burst = new Packet[4];
            pool.AllocBulk(burst);
            Assert.Equal(4, a.TxBurst(1, burst));
            var got = new Packet[8];
            Assert.Equal(0, a.RxBurst(1, got));
            Assert.Equal(0, b.RxBurst(0, got));
            Assert.Equal(4, b.RxBurst(1, got));
            Assert.Equal(b.PortId, got[0].Port);
            Assert.Equal(4, b.TxBurst(0, got.AsSpan(0, 4)));
            Assert.Equal(4, a.RxBurst(0, got));
            Packet.FreeBulk(got.AsSpan(0, 4));
            // Leave packets in flight in both directions, close in the "wrong" order: nothing leaks.
            pool.AllocBulk(burst);
            Assert.Equal(4, a.TxBurst(0, burst));
            pool.AllocBulk(burst);
            Assert.Equal(4, b.TxBurst(1, burst));
        }
        finally
        {
            a.Close();
            Assert.Equal(4, pool.InUse); // A's RX ring was drained; B's RX ring is B's until it closes
            b.Close();
        }
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Ports_from_application_rings_leave_the_rings_to_the_application()
    {
        using MbufPool pool = MbufPool.Create("ring_app", 128, cacheSize: 0);
        using Ring<Packet> rx = Ring<Packet>.Create(64, RingFlags.SingleProducer | RingFlags.SingleConsumer, "app_rx");
        using Ring<Packet> tx = Ring<Packet>.Create(64, RingFlags.SingleProducer | RingFlags.SingleConsumer, "app_tx");
        EthDev port = RingPort.FromRings("app", [rx], [tx]);
        port.Configure(1, 1);
        port.SetupRxQueue(0, 64, pool);
        port.SetupTxQueue(0, 64);
        port.Start();
        var burst = new Packet[3];
        pool.AllocBulk(burst);
        Assert.Equal(3, rx.EnqueueBurst(burst));
        var got = new Packet[8];
        Assert.Equal(1, port.RxBurst(0, got.AsSpan(0, 1)));
        Assert.Equal(1, port.TxBurst(0, got.AsSpan(0, 1)));
        port.Close();
        // The two packets left in the RX ring were the port's to free; the one it sent is in the app's TX ring.
        Assert.Equal(0, rx.Count);
        Assert.Equal(1, tx.Count);
        Assert.Equal(1, tx.DequeueBurst(got));
        got[0].Free();
        Assert.Equal(0, pool.InUse);
        // The rings still work after the port is gone.
        Assert.True(tx.TryEnqueue(default));
    }

    [Fact]
    public void One_million_packets_cross_lcores_in_order_through_a_pair()
    {
        const int total = 1_000_000;
        using MbufPool pool = MbufPool.Create("ring_xthread", 4096, cacheSize: 0);
        (EthDev a, EthDev b) = RingPort.CreatePair("xa", "xb");
        try
        {
            foreach (EthDev port in new[] { a, b })
            {
                port.Configure(1, 1);
                port.SetupRxQueue(0, 1024, pool);
                port.SetupTxQueue(0, 1024);
                port.Start();
            }
            long received = 0;
            bool inOrder = true;
            var consumer = new Thread(() =>
            {
                var got = new Packet[32];
                uint expected = 0;
                while (received < total)
                {
                    int n = b.RxBurst(0, got);
                    for (int i = 0; i < n; i++)
                    {
                        if (BinaryPrimitives.ReadUInt32LittleEndian(got[i].Data) != expected++)
                            inOrder = false;
                    }
                    Packet.FreeBulk(got.AsSpan(0, n));
                    received += n;
                }
            });
            consumer.Start();
            var burst = new Packet[32];
            uint seq = 0;
            int sent = 0;
            while (sent < total)
            {
                int want = Math.Min(32, total - sent);
                if (pool.AllocBulk(burst.AsSpan(0, want)) == 0)
                    continue;
                for (int i = 0; i < want; i++)
                {
                    burst[i].TryAppend(4);
                    BinaryPrimitives.WriteUInt32LittleEndian(burst[i].Data, seq++);
                }
                int done = 0;
                while (done < want)
                    done += a.TxBurst(0, burst.AsSpan(done, want - done));
                sent += want;
            }
            Assert.True(consumer.Join(TimeSpan.FromMinutes(2)));
            Assert.True(inOrder);
            Assert.Equal((ulong)total, b.GetStats().InPackets);
        }
        finally
        {
            a.Close();
            b.Close();
        }
        Assert.Equal(0, pool.InUse);
    }
}
