using System;
using System.Collections.Generic;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Drivers.Ring;

/// <summary>TxBuffer (rte_eth_tx_buffer) over a small loopback ring port, so a full TX queue is easy to reach.</summary>
public class TxBufferTests
{
    [Fact]
    public void Sends_when_full_and_on_flush()
    {
        using MbufPool pool = MbufPool.Create("txb_full", 128, cacheSize: 0);
        using EthDev port = LoopbackPort("net_ring_txb1", 64, pool);
        var buffer = new TxBuffer(port, 0, size: 4);
        for (int i = 0; i < 3; i++)
            Assert.Equal(0, buffer.Add(pool.Alloc()));
        Assert.Equal(3, buffer.Count);
        Assert.Equal(4, buffer.Add(pool.Alloc()));
        Assert.Equal(0, buffer.Count);
        buffer.Add(pool.Alloc());
        Assert.Equal(1, buffer.Flush());
        Assert.Equal(0, buffer.Flush());
        Assert.Equal(5ul, buffer.Sent);
        Assert.Equal(5ul, port.GetStats().OutPackets);
        port.Close();
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Refused_packets_are_freed_and_counted_or_handed_to_the_handler()
    {
        using MbufPool pool = MbufPool.Create("txb_drop", 128, cacheSize: 0);
        using EthDev port = LoopbackPort("net_ring_txb2", 8, pool); // holds 7
        var buffer = new TxBuffer(port, 0, size: 5);
        for (int i = 0; i < 10; i++)
            buffer.Add(pool.Alloc());
        Assert.Equal(7ul, buffer.Sent);
        Assert.Equal(3ul, buffer.Dropped);
        Assert.Equal(7, pool.InUse);

        var kept = new List<Packet>();
        buffer.UnsentHandler = unsent => kept.AddRange(unsent.ToArray());
        for (int i = 0; i < 5; i++)
            buffer.Add(pool.Alloc());
        Assert.Equal(5, kept.Count);
        Assert.Equal(3ul, buffer.Dropped);
        Packet.FreeBulk(kept.ToArray());
        port.Close();
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void A_stopped_port_takes_nothing_and_discard_frees_what_waits()
    {
        using MbufPool pool = MbufPool.Create("txb_stop", 64, cacheSize: 0);
        using EthDev port = LoopbackPort("net_ring_txb3", 64, pool);
        var buffer = new TxBuffer(port, 0, size: 8);
        port.Stop();
        buffer.Add(pool.Alloc());
        Assert.Equal(0, buffer.Flush());
        Assert.Equal(1ul, buffer.Dropped);
        buffer.Add(pool.Alloc());
        buffer.Discard();
        Assert.Equal(0, pool.InUse);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TxBuffer(port, 0, size: 0));
    }

    internal static EthDev LoopbackPort(string name, int ringSize, MbufPool pool)
    {
        EthDev port = EthDev.Create($"{name},queues=1,size={ringSize}");
        port.Configure(1, 1);
        port.SetupRxQueue(0, ringSize, pool);
        port.SetupTxQueue(0, ringSize);
        port.Start();
        return port;
    }
}
